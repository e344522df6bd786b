import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { DASHBOARD_STYLE } from './dashboard-style.js';

/**
 * The dashboard: one self-contained page (no CDN, no bundler). It listens to `/events`
 * (server-sent events, a snapshot every 250 ms), draws the charts on plain canvases and posts
 * the load and fault controls to `/api/load` and `/api/fault`.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pool family: live demo</title>
<style>
${DASHBOARD_STYLE}</style>
</head>
<body data-updates="0">
<header>
  <h1>pool family <span>live demo: five pools, one process</span></h1>
  <span id="conn" class="badge warn">connecting</span>
  <label>load <input type="range" id="rate" min="0" max="60" step="1" value="8">
    <output id="rate-value">8</output> ops/s per operation</label>
  <a href="/metrics" target="_blank">/metrics</a>
  <a href="/health" target="_blank">/health</a>
  <span id="toast"></span>
</header>
<main id="pools"></main>
<section id="activity-panel"><h2>activity</h2><ol id="activity"></ol></section>
<script>
${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
