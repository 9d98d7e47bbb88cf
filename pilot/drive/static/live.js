// pilot live drive page: plain JavaScript, no libraries, nothing fetched from outside this server.
// Numbers and new strip samples arrive as Server-Sent Events from /live/events (~5 a second);
// the camera frame and the model input are fetched when a new frame exists, one request at a time.
"use strict";

const HISTORY_S = 30;
const STRIPS = [
  { key: 2, canvas: "strip-steering", now: "steering-now", min: -1, max: 1, colour: "#d9480f", digits: 3 },
  { key: 3, canvas: "strip-throttle", now: "throttle-now", min: -1, max: 1, colour: "#1864ab", digits: 3 },
  { key: 4, canvas: "strip-speed", now: "speed-now", min: 0, max: 35, colour: "#2b8a3e", digits: 1 },
];
const live = { state: null, samples: [], framesShown: 0, modelInputsShown: 0, saliencyShown: 0, events: 0 };
window.live = live;    // read by the page test

function pageNow_s() { return performance.now() / 1000; }

function setText(id, text) { document.getElementById(id).textContent = text; }

function showNumbers(state) {
  setText("model", state.model || "?");
  setText("controller", state.controller || "?");
  setText("frames-per-s", state.frames_per_s.toFixed(0));
  setText("latency-p50", state.latency_p50_ms.toFixed(2));
  setText("latency-p99", state.latency_p99_ms.toFixed(2));
  setText("frames", String(state.frames));
  setText("malformed", String(state.malformed));
  setText("manual", String(state.manual));
}

// Refresh a picture when the server has a newer frame; never more than one request in flight.
function picture(id, url, counter) {
  const img = document.getElementById(id);
  let shownIndex = 0, loading = false;
  img.addEventListener("load", () => { loading = false; live[counter] += 1; });
  img.addEventListener("error", () => { loading = false; });
  return (frameIndex) => {
    if (loading || frameIndex <= shownIndex) return;
    loading = true;
    shownIndex = frameIndex;
    img.src = url + "?frame=" + frameIndex;
  };
}
const refreshFrame = picture("frame", "/live/frame.jpg", "framesShown");
const refreshModelInput = picture("model-input", "/live/model_input.png", "modelInputsShown");
const refreshSaliency = picture("saliency", "/live/saliency.png", "saliencyShown");

function drawStrip(strip, now_s) {
  const canvas = document.getElementById(strip.canvas);
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, top = 22, bottom = 6;   // the label sits above the plot
  const y = (v) => top + (h - top - bottom) * (1 - (Math.min(strip.max, Math.max(strip.min, v)) - strip.min) / (strip.max - strip.min));
  const x = (t) => w * (1 + (t - now_s) / HISTORY_S);
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#e3e6ea";
  ctx.lineWidth = 1;
  for (let s = 5; s < HISTORY_S; s += 5) {         // a grid line every 5 s
    const gx = Math.round(w * s / HISTORY_S) + 0.5;
    ctx.beginPath(); ctx.moveTo(gx, 0); ctx.lineTo(gx, h); ctx.stroke();
  }
  if (strip.min < 0) {                              // the zero line
    ctx.strokeStyle = "#adb5bd";
    ctx.beginPath(); ctx.moveTo(0, Math.round(y(0)) + 0.5); ctx.lineTo(w, Math.round(y(0)) + 0.5); ctx.stroke();
  }
  ctx.strokeStyle = strip.colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  let started = false;
  for (const sample of live.samples) {
    const px = x(sample[1]), py = y(sample[strip.key]);
    if (!started) { ctx.moveTo(px, py); started = true; } else { ctx.lineTo(px, py); }
  }
  ctx.stroke();
  const last = live.samples[live.samples.length - 1];
  setText(strip.now, last ? last[strip.key].toFixed(strip.digits) : "");
}

function onState(state) {
  const received_s = pageNow_s();
  const newest = live.samples.length ? live.samples[live.samples.length - 1][0] : 0;
  for (const sample of state.samples) {            // times arrive relative to the server's now
    if (sample[0] <= newest) continue;             // already held (a reconnect resends 30 s)
    live.samples.push([sample[0], received_s + sample[1], sample[2], sample[3], sample[4]]);
  }
  while (live.samples.length && live.samples[0][1] < received_s - HISTORY_S) live.samples.shift();
  live.state = state;
  live.events += 1;
  showNumbers(state);
  for (const strip of STRIPS) drawStrip(strip, received_s);
  refreshFrame(state.frame_index);
  refreshModelInput(state.frame_index);
  if (state.saliency_index > 0) {                  // drive.py --saliency
    document.getElementById("saliency-figure").hidden = false;
    refreshSaliency(state.saliency_index);
  }
}

let source = null;
function connect() {
  const connection = document.getElementById("connection");
  source = new EventSource("/live/events");
  source.onopen = () => { connection.textContent = "live"; connection.className = "connection live"; };
  source.onerror = () => { connection.textContent = "reconnecting…"; connection.className = "connection"; };
  source.onmessage = (event) => onState(JSON.parse(event.data));
}

// A page left for another (or kept in the back/forward cache) must not hold its stream open:
// the browser allows six connections to a server, and each held stream takes one.
window.addEventListener("pagehide", () => { if (source) source.close(); source = null; });
window.addEventListener("pageshow", (event) => { if (event.persisted && !source) connect(); });
connect();
