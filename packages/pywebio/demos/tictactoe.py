"""Tic-tac-toe

Play X against the computer; the board is made of buttons.
"""

import random

from pywebio import start_server
from pywebio.output import put_buttons, put_markdown, put_text, toast, use_scope

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
EMPTY = "\u00b7"


def winner(board):
    for a, b, c in LINES:
        if board[a] != EMPTY and board[a] == board[b] == board[c]:
            return board[a]
    if EMPTY not in board:
        return "draw"
    return None


def computer_move(board):
    free = [i for i, v in enumerate(board) if v == EMPTY]
    for mark in ("O", "X"):  # win if possible, else block
        for i in free:
            trial = list(board)
            trial[i] = mark
            if winner(trial) == mark:
                return i
    if 4 in free:
        return 4
    corners = [i for i in (0, 2, 6, 8) if i in free]
    return random.choice(corners or free)


class Game:
    def __init__(self):
        self.board = [EMPTY] * 9
        self.over = False

    def draw(self):
        with use_scope("board", clear=True):
            cells = [{"label": mark, "value": i, "color": self.color(i)} for i, mark in enumerate(self.board)]
            put_buttons(cells, onclick=self.play).style(
                "display: grid; grid-template-columns: repeat(3, 64px); grid-auto-rows: 64px; gap: 6px; font-size: 1.5em"
            )
            if self.over:
                result = winner(self.board)
                put_text("It's a draw!" if result == "draw" else f"{result} wins!")
                put_buttons(["New game"], onclick=lambda _: self.reset())

    def color(self, i):
        return {"X": "primary", "O": "danger"}.get(self.board[i], "light")

    def play(self, i):
        if self.over or self.board[i] != EMPTY:
            toast("Pick an empty square", color="warn")
            return
        self.board[i] = "X"
        if winner(self.board) is None:
            self.board[computer_move(self.board)] = "O"
        self.over = winner(self.board) is not None
        self.draw()

    def reset(self):
        self.__init__()
        self.draw()


def main():
    """Tic-tac-toe

    Play X against the computer.
    """
    put_markdown("## Tic-tac-toe\nYou are **X**. Click a square to play.")
    Game().draw()


if __name__ == "__main__":
    start_server(main, port=8080)
