// Recording review page: scrub frames, mark ranges, save them to excluded.csv.
// Plain JavaScript, no framework. Images are fetched lazily by frame index and the
// neighbours of the current frame are fetched and decoded ahead, so a step only draws.
"use strict";

const CAMERAS = ["left", "center", "right"];
const AHEAD = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30];   // frames fetched ahead of the current one
const BEHIND = [1, 2, 3, 5, 10];
const MAX_LOADING = 8;            // frames (three images each) fetched at once
const MAX_CACHED = 400;           // decoded frames kept
const LANES = [
  {key: "steering", label: "steering", low: -1, high: 1, colour: "#2563eb", zero: true, scale: "−1 … +1"},
  {key: "throttle", label: "throttle", low: 0, high: 1, colour: "#16a34a", scale: "0 … 1"},
  {key: "speed", label: "speed (mph)", low: 0, high: 30, colour: "#d97706"},
];
const LABEL_WIDTH_PX = 84;

const state = {
  recording: null, index: 0, markFirst: null, markLast: null, ranges: [], problems: [],
  excludedBy: [],                 // per frame: the index of the range that covers it, or -1
  direction: 1, stride: 1, cache: new Map(), queue: [], loading: 0,
  traceLayer: null, pendingStep: null,
};
// Read by the browser tests and bench/review_page.py: when the first frame was painted (ms since
// navigation started), and for each step the ms from the key event to the frame after its drawing,
// whether its images were already fetched and decoded, and whether it was shown at all (a step
// whose images were still loading when the next one came is never shown).
const timings = {openMs: null, steps: []};
window.review = {state, timings, cameraRect: name => element(`camera-${name}`).getBoundingClientRect().toJSON()};

function element(id) { return document.getElementById(id); }

function setStatus(text, isError = false) {
  const status = element("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

// ---- images: fetch and decode ahead ------------------------------------------------------

function pump() {
  while (state.loading < MAX_LOADING && state.queue.length > 0) {
    const index = state.queue.shift();
    if (!state.cache.has(index)) load(index);
  }
}

function load(index) {
  const entry = {images: {}, ready: false, failed: false};
  state.loading += 1;
  entry.promise = Promise.all(CAMERAS.map(camera => {
    const image = new Image();
    image.src = `/api/frames/${index}/${camera}.jpg`;
    entry.images[camera] = image;
    return image.decode().catch(() => { entry.failed = true; });
  })).then(() => {
    entry.ready = true;
    state.loading -= 1;
    pump();
  });
  state.cache.set(index, entry);
  evict();
  return entry;
}

function evict() {
  if (state.cache.size <= MAX_CACHED) return;
  const byDistance = [...state.cache.keys()].sort((a, b) => Math.abs(b - state.index) - Math.abs(a - state.index));
  for (const index of byDistance.slice(0, state.cache.size - MAX_CACHED)) {
    if (state.cache.get(index).ready) state.cache.delete(index);
  }
}

function prefetch() {
  // Most likely next first: the same move again (one frame, ten, a drag), then the frames around.
  const count = state.recording.frame_count;
  const forward = state.direction;
  const wanted = [1, 2, 3].map(k => state.index + forward * k * state.stride)
    .concat(AHEAD.map(step => state.index + forward * step), BEHIND.map(step => state.index - forward * step));
  state.queue = [...new Set(wanted)].filter(index => index >= 0 && index < count && !state.cache.has(index));
  pump();
}

// ---- drawing -----------------------------------------------------------------------------

function drawCameras(entry) {
  for (const camera of CAMERAS) {
    const canvas = element(`camera-${camera}`);
    const context = canvas.getContext("2d");
    const image = entry.images[camera];
    if (image.complete && image.naturalWidth > 0) {
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
    } else {
      context.fillStyle = "#c8ced6";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.fillStyle = "#1f2933";
      context.font = "14px sans-serif";
      context.fillText("this image cannot be decoded", 70, 84);
    }
  }
}

function traceGeometry(canvas) {
  const width = canvas.width, height = canvas.height;
  const laneHeight = height / LANES.length;
  const plotWidth = width - LABEL_WIDTH_PX * devicePixelRatio;
  const count = state.recording.frame_count;
  return {
    width, height, laneHeight, plotWidth,
    x: index => LABEL_WIDTH_PX * devicePixelRatio + (count > 1 ? index / (count - 1) : 0.5) * plotWidth,
    index: x => Math.round(Math.min(1, Math.max(0, (x - LABEL_WIDTH_PX * devicePixelRatio) / plotWidth)) * (count - 1)),
  };
}

function spans(predicate) {
  // [first, last] runs of frames for which predicate(index) holds
  const runs = [];
  let first = null;
  const count = state.recording.frame_count;
  for (let index = 0; index <= count; index++) {
    const inside = index < count && predicate(index);
    if (inside && first === null) first = index;
    if (!inside && first !== null) { runs.push([first, index - 1]); first = null; }
  }
  return runs;
}

function drawTraceLayer() {
  // The traces and excluded ranges, drawn once per change of ranges or size; drawTrace adds the rest.
  const canvas = element("trace");
  const ratio = devicePixelRatio;
  canvas.width = Math.round(canvas.clientWidth * ratio);
  canvas.height = Math.round(canvas.clientHeight * ratio);
  const layer = state.traceLayer || document.createElement("canvas");
  layer.width = canvas.width;
  layer.height = canvas.height;
  const context = layer.getContext("2d");
  const g = traceGeometry(canvas);
  const halfFrame = Math.max(1, g.plotWidth / Math.max(1, state.recording.frame_count - 1) / 2);
  context.clearRect(0, 0, g.width, g.height);

  context.fillStyle = "rgba(220, 38, 38, 0.16)";
  for (const [first, last] of spans(index => state.excludedBy[index] >= 0)) {
    context.fillRect(g.x(first) - halfFrame, 0, g.x(last) - g.x(first) + 2 * halfFrame, g.height);
  }

  context.font = `${12 * ratio}px system-ui, sans-serif`;
  context.textBaseline = "middle";
  LANES.forEach((lane, number) => {
    const top = number * g.laneHeight, bottom = top + g.laneHeight;
    const padding = 6 * ratio;
    const high = lane.key === "speed" ? state.recording.speed.reduce((a, b) => Math.max(a, b), lane.high) : lane.high;
    const y = value => bottom - padding - (value - lane.low) / (high - lane.low) * (g.laneHeight - 2 * padding);
    context.strokeStyle = "#d9dee4";
    context.lineWidth = ratio;
    context.beginPath();
    if (number > 0) { context.moveTo(0, top); context.lineTo(g.width, top); }
    if (lane.zero) { context.moveTo(g.x(0), y(0)); context.lineTo(g.width, y(0)); }
    context.stroke();
    context.fillStyle = "#66717d";
    context.fillText(lane.label, 4 * ratio, top + g.laneHeight / 2 - 7 * ratio);
    context.fillStyle = "#9aa3ad";
    context.fillText(lane.scale || `0 … ${Math.round(high)}`, 4 * ratio, top + g.laneHeight / 2 + 8 * ratio);
    context.strokeStyle = lane.colour;
    context.lineWidth = 1.25 * ratio;
    context.beginPath();
    const values = state.recording[lane.key];
    values.forEach((value, index) => {
      if (index === 0) context.moveTo(g.x(index), y(value));
      else context.lineTo(g.x(index), y(value));
    });
    context.stroke();
  });
  state.traceLayer = layer;
}

function drawTrace() {
  const canvas = element("trace");
  const context = canvas.getContext("2d");
  const g = traceGeometry(canvas);
  context.clearRect(0, 0, g.width, g.height);
  context.drawImage(state.traceLayer, 0, 0);
  const mark = markedRange();
  if (mark) {
    const halfFrame = Math.max(1, g.plotWidth / Math.max(1, state.recording.frame_count - 1) / 2);
    context.fillStyle = "rgba(124, 58, 237, 0.18)";
    context.fillRect(g.x(mark[0]) - halfFrame, 0, g.x(mark[1]) - g.x(mark[0]) + 2 * halfFrame, g.height);
    context.fillStyle = "#7c3aed";
    for (const index of [state.markFirst, state.markLast]) {
      if (index !== null) context.fillRect(g.x(index) - devicePixelRatio, 0, 2 * devicePixelRatio, g.height);
    }
  }
  context.fillStyle = "#1f2933";
  context.fillRect(g.x(state.index) - devicePixelRatio, 0, 2 * devicePixelRatio, g.height);
}

function readableTime(stamp) {
  // "2019_02_20_12_24_27_239" -> "2019-02-20 12:24:27.239"
  const [year, month, day, hour, minute, second, millis] = stamp.split("_");
  return `${year}-${month}-${day} ${hour}:${minute}:${second}.${millis}`;
}

function describeReadout() {
  const r = state.recording, index = state.index;
  const stamp = r.stamps[index];
  element("frame-number").textContent = `Frame ${index + 1} of ${r.frame_count}`;
  element("frame-time").textContent = readableTime(stamp);
  const sign = r.steering[index] >= 0 ? "+" : "−";
  element("frame-values").textContent = `steering ${sign}${Math.abs(r.steering[index]).toFixed(3)} · ` +
    `throttle ${r.throttle[index].toFixed(2)} · brake ${r.brake[index].toFixed(2)} · ` +
    `${r.speed[index].toFixed(1)} mph`;
  const range = state.excludedBy[index];
  const badge = element("frame-excluded");
  badge.hidden = range < 0;
  badge.textContent = range < 0 ? "" : `excluded: ${state.ranges[range].reason}`;
  element("cameras").classList.toggle("excluded", range >= 0);
}

// ---- moving ------------------------------------------------------------------------------

function show(index, startedMs = performance.now()) {
  const count = state.recording.frame_count;
  index = Math.min(count - 1, Math.max(0, index));
  if (index !== state.index) {
    state.direction = index > state.index ? 1 : -1;
    state.stride = Math.abs(index - state.index);
  }
  const unshown = state.pendingStep;
  if (unshown && timings.openMs !== null) {
    timings.steps.push({ms: performance.now() - unshown.startedMs, ready: false, shown: false});
  }
  state.index = index;
  element("scrubber").value = String(index);
  describeReadout();
  if (state.markFirst === null || state.markLast === null) describeMark();   // an open mark follows the frame
  drawTrace();
  const entry = state.cache.get(index) || load(index);
  prefetch();
  state.pendingStep = {index, startedMs, ready: entry.ready};
  if (entry.ready) {
    present(entry, index);
  } else {
    entry.promise.then(() => { if (state.index === index) present(entry, index); });
  }
}

function present(entry, index) {
  drawCameras(entry);
  document.body.dataset.frame = String(index);      // the frame the cameras show (tests wait for it)
  const step = state.pendingStep;
  state.pendingStep = null;
  requestAnimationFrame(() => {
    const now = performance.now();
    if (timings.openMs === null) {
      timings.openMs = now;                        // since navigation started
      document.body.dataset.state = "ready";
    } else if (step && step.index === index) {
      timings.steps.push({ms: now - step.startedMs, ready: step.ready, shown: true});
    }
  });
}

// ---- marking and excluding ---------------------------------------------------------------

function markedRange() {
  if (state.markFirst === null && state.markLast === null) return null;
  const first = state.markFirst ?? state.index, last = state.markLast ?? state.index;
  return [Math.min(first, last), Math.max(first, last)];
}

function describeMark() {
  const mark = element("mark");
  const range = markedRange();
  mark.classList.toggle("active", range !== null);
  if (range === null) {
    mark.textContent = "No range marked: press [ and ] to mark its first and last frame.";
  } else {
    const open = state.markFirst === null || state.markLast === null ? " (to the current frame)" : "";
    const count = range[1] - range[0] + 1;
    mark.textContent = `Marked frames ${range[0] + 1}–${range[1] + 1}${open}: ${count} frame${count > 1 ? "s" : ""}.`;
  }
}

function setMark(which) {
  if (which === "first") state.markFirst = state.index; else state.markLast = state.index;
  describeMark();
  drawTrace();
}

function clearMark() {
  state.markFirst = state.markLast = null;
  describeMark();
  drawTrace();
}

function excludeMarked() {
  const range = markedRange();
  if (range === null) {
    setStatus("Mark a range first: [ on its first frame, ] on its last.", true);
    return;
  }
  const reason = element("reason").value.trim();
  if (!reason) {
    element("reason").focus();
    setStatus("Type a reason, then press Enter.", true);
    return;
  }
  const stamps = state.recording.stamps;
  const ranges = [...state.ranges, {first_time: stamps[range[0]], last_time: stamps[range[1]], reason}];
  state.markFirst = state.markLast = null;
  element("reason").blur();
  save(ranges, `Excluded frames ${range[0] + 1}–${range[1] + 1}.`);
}

function deleteRange(number) {
  const ranges = state.ranges.filter((_, other) => other !== number);
  save(ranges, "Range deleted.");
}

async function save(ranges, done) {
  setStatus("Saving…");
  document.body.dataset.saved = "pending";
  try {
    const response = await fetch("/api/exclusions", {
      method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify({ranges}),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    applyExclusions(body);
    setStatus(`${done} Saved to excluded.csv.`);
    document.body.dataset.saved = "yes";
  } catch (error) {
    setStatus(error.message, true);
    document.body.dataset.saved = "failed";
    try {
      applyExclusions(await (await fetch("/api/exclusions")).json());   // show what the file really holds
    } catch (ignored) {
      setStatus(`${error.message} The review server does not answer: is it still running?`, true);
    }
  }
}

function applyExclusions(exclusions) {
  state.ranges = exclusions.ranges;
  state.problems = exclusions.problems;
  const stamps = state.recording.stamps;
  state.excludedBy = stamps.map(stamp => state.ranges.findIndex(r => r.first_time <= stamp && stamp <= r.last_time));
  describeProblems();
  describeMark();
  describeRanges();
  describeReadout();
  drawTraceLayer();
  drawTrace();
}

function describeProblems() {
  const lines = [...state.problems];
  const notShown = Object.entries(state.recording.rows_not_shown);
  if (notShown.length > 0) {
    lines.push("Rows of driving_log.csv not shown (ingest drops them too): " +
      notShown.map(([reason, count]) => `${count} ${reason}`).join(", ") + ".");
  }
  const box = element("problems");
  box.hidden = lines.length === 0;
  box.textContent = lines.join("\n");
}

function describeRanges() {
  const stamps = state.recording.stamps;
  const body = element("excluded-table").querySelector("tbody");
  body.replaceChildren();
  state.ranges.forEach((range, number) => {
    const covered = [];
    state.excludedBy.forEach((owner, index) => { if (owner === number) covered.push(index); });
    const row = document.createElement("tr");
    const frames = covered.length ? `${covered[0] + 1}–${covered[covered.length - 1] + 1}` : "none";
    for (const text of [frames, range.first_time, range.last_time, String(covered.length), range.reason]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const action = document.createElement("td");
    const button = document.createElement("button");
    button.className = "quiet";
    button.type = "button";
    button.textContent = "Delete";
    button.addEventListener("click", event => { event.stopPropagation(); deleteRange(number); });
    action.append(button);
    row.append(action);
    if (covered.length) row.addEventListener("click", () => show(covered[0]));
    body.append(row);
  });
  const total = state.excludedBy.filter(owner => owner >= 0).length;
  element("excluded-table").hidden = state.ranges.length === 0;
  element("excluded-empty").hidden = state.ranges.length > 0;
  element("excluded-count").textContent = state.ranges.length
    ? `· ${state.ranges.length} range${state.ranges.length > 1 ? "s" : ""}, ${total} of ${stamps.length} frames` : "";
}

// ---- keys and pointer --------------------------------------------------------------------

function onKey(event) {
  const typing = event.target === element("reason");
  if (typing) {
    if (event.key === "Enter") { event.preventDefault(); excludeMarked(); }
    if (event.key === "Escape") { event.preventDefault(); element("reason").blur(); }
    return;
  }
  if (event.target.tagName === "BUTTON" && (event.key === "Enter" || event.key === " ")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const step = event.shiftKey ? 10 : 1;
  const moves = {ArrowRight: step, ArrowLeft: -step, PageDown: 10, PageUp: -10};
  if (event.key in moves) {
    show(state.index + moves[event.key], event.timeStamp);
  } else if (event.key === "Home") {
    show(0, event.timeStamp);
  } else if (event.key === "End") {
    show(state.recording.frame_count - 1, event.timeStamp);
  } else if (event.key === "[") {
    setMark("first");
  } else if (event.key === "]") {
    setMark("last");
  } else if (event.key === "x" || event.key === "X" || event.key === "Enter") {
    excludeMarked();
  } else if (event.key === "Escape") {
    clearMark();
  } else {
    return;
  }
  event.preventDefault();
}

function seekFromPointer(event) {
  const canvas = element("trace");
  const box = canvas.getBoundingClientRect();
  show(traceGeometry(canvas).index((event.clientX - box.left) * devicePixelRatio));
}

async function start() {
  try {
    const [recording, exclusions] = await Promise.all(
      ["/api/recording", "/api/exclusions"].map(url => fetch(url).then(response => response.json())));
    state.recording = recording;
    document.title = `Review · ${recording.name}`;
    element("name").textContent = recording.name;
    element("summary").textContent = `${recording.frame_count} frames · ${recording.folder}`;
    element("scrubber").max = String(recording.frame_count - 1);
    applyExclusions(exclusions);
    show(0);
  } catch (error) {
    document.body.dataset.state = "failed";
    setStatus(`The recording could not be loaded: ${error.message}`, true);
    return;
  }
  document.addEventListener("keydown", onKey, true);
  element("scrubber").addEventListener("input", event => show(Number(event.target.value), event.timeStamp));
  element("exclude").addEventListener("click", excludeMarked);
  const trace = element("trace");
  trace.addEventListener("pointerdown", event => { trace.setPointerCapture(event.pointerId); seekFromPointer(event); });
  trace.addEventListener("pointermove", event => { if (event.buttons & 1) seekFromPointer(event); });
  window.addEventListener("resize", () => { drawTraceLayer(); drawTrace(); });
}

start();
