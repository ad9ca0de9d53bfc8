// The dashboard's page: the state from GET /api/state, then live updates from GET /events.
"use strict";

const $ = (id) => document.getElementById(id);
const jobs = new Map();

function showStats(s) {
  const h = Math.floor(s.uptime / 3600), m = Math.floor((s.uptime % 3600) / 60), sec = s.uptime % 60;
  $("uptime").textContent = (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
  $("load").textContent = s.load === null ? "n/a" : s.load.toFixed(2);
  $("clients").textContent = s.clients;
  $("running").textContent = s.running_jobs;
  $("time").textContent = s.time;
}

function showJob(job) {
  if (job.state === "removed") {
    jobs.delete(job.id);
    const gone = document.querySelector(`li[data-id="${job.id}"]`);
    if (gone) gone.remove();
    return;
  }
  jobs.set(job.id, job);
  let li = document.querySelector(`li[data-id="${job.id}"]`);
  if (!li) {
    li = document.createElement("li");
    li.dataset.id = job.id;
    li.innerHTML = '<span class="name"></span><div class="bar"><div></div></div><span class="count"></span>' +
      '<button class="ghost" title="remove">remove</button>';
    li.querySelector("button").addEventListener("click", () => removeJob(job.id));
    $("job-list").prepend(li);
  }
  li.className = job.state;
  li.querySelector(".name").textContent = `#${job.id} ${job.name}`;
  li.querySelector(".bar > div").style.width = `${(100 * job.done) / job.steps}%`;
  li.querySelector(".count").textContent = job.state === "finished" ? "done" : `${job.done}/${job.steps}`;
  li.querySelector("button").hidden = job.state !== "finished";
}

function showError(message) {
  const p = $("error");
  p.textContent = message || "";
  p.hidden = !message;
}

async function removeJob(id) {
  const r = await fetch(`/api/jobs/${id}`, { method: "DELETE" });
  if (!r.ok) showError((await r.json()).detail);
}

$("new-job").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const r = await fetch("/api/jobs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: form.get("name"), steps: Number(form.get("steps")) }),
  });
  showError(r.ok ? "" : (await r.json()).detail);
});

async function loadState() {
  const state = await (await fetch("/api/state")).json();
  showStats(state.stats);
  for (const job of state.jobs) showJob(job);
}

function follow() {
  const source = new EventSource("/events");
  source.addEventListener("open", () => {
    $("status").textContent = "live";
    $("status").className = "status online";
    loadState(); // catch up on anything missed while disconnected
  });
  source.addEventListener("error", () => {
    $("status").textContent = "reconnecting…";
    $("status").className = "status offline";
  });
  source.addEventListener("stats", (e) => showStats(JSON.parse(e.data)));
  source.addEventListener("job", (e) => showJob(JSON.parse(e.data)));
}

follow();
