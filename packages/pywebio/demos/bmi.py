"""BMI calculator

Enter your height and weight to get your body mass index.
"""

from pywebio import start_server
from pywebio.input import FLOAT, input, input_group
from pywebio.output import put_markdown, put_table, put_text, use_scope

CATEGORIES = [
    (16, "Severely underweight"),
    (18.5, "Underweight"),
    (25, "Normal"),
    (30, "Overweight"),
    (35, "Moderately obese"),
    (float("inf"), "Severely obese"),
]


def check_height(value):
    if not 50 <= value <= 250:
        return "Height must be between 50 and 250 cm"


def check_weight(value):
    if not 10 <= value <= 400:
        return "Weight must be between 10 and 400 kg"


def check_form(data):
    if data["height"] < 120 and data["weight"] > 200:
        return ("weight", "That weight does not look right for this height")


def bmi_category(bmi):
    for limit, name in CATEGORIES:
        if bmi < limit:
            return name
    return CATEGORIES[-1][1]


def main():
    """BMI calculator

    Enter your height and weight to get your body mass index.
    """
    put_markdown("# BMI calculator")
    put_text(
        "The body mass index is your weight in kilograms divided by the square of your height in metres."
    )
    while True:
        info = input_group(
            "Your measurements",
            [
                input(
                    "Height (cm)",
                    name="height",
                    type=FLOAT,
                    validate=check_height,
                    required=True,
                    placeholder="e.g. 175",
                ),
                input(
                    "Weight (kg)",
                    name="weight",
                    type=FLOAT,
                    validate=check_weight,
                    required=True,
                    placeholder="e.g. 70",
                ),
            ],
            validate=check_form,
        )
        bmi = info["weight"] / (info["height"] / 100) ** 2
        with use_scope("result", clear=True):
            put_table(
                [
                    ["Height", f"{info['height']:g} cm"],
                    ["Weight", f"{info['weight']:g} kg"],
                    ["BMI", f"{bmi:.1f}"],
                    ["Category", bmi_category(bmi)],
                ],
                header=["", "Your result"],
            )


if __name__ == "__main__":
    start_server(main, port=8080)
