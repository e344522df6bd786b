/** The dashboard's stylesheet (see dashboard.ts). */
export const DASHBOARD_STYLE = String.raw`  :root { --bg: #f4f5f7; --card: #fff; --ink: #1f2430; --muted: #6b7280; --line: #e3e6eb;
          --active: #2563eb; --idle: #16a34a; --waiting: #dc2626; --creating: #d97706;
          --p50: #7c3aed; --p99: #db2777; --leases: #94a3b8;
          --createfail: #b91c1c; --opfail: #ea580c; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
         background: var(--bg); color: var(--ink); }
  body > header { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 10px 18px;
                  background: #1f2430; color: #fff; position: sticky; top: 0; z-index: 2; }
  body > header h1 { font-size: 17px; margin: 0; font-weight: 600; }
  body > header h1 span { color: #9aa4b8; font-weight: 400; }
  body > header a { color: #9cc2ff; }
  body > header label { display: flex; gap: 8px; align-items: center; }
  #rate { width: 180px; }
  #toast { color: #ffd88a; min-height: 1em; flex: 1; text-align: right; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(620px, 1fr)); gap: 14px; padding: 14px 18px; }
  .pool { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .pool > header { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
  .pool h2 { margin: 0; font-size: 16px; }
  .pool .what { color: var(--muted); }
  .pool .pool-actions { margin-left: auto; }
  .kpis, .ops, .node-kpis { color: var(--muted); margin: 6px 0; font-variant-numeric: tabular-nums; }
  .kpis b, .ops b, .node-kpis b { color: var(--ink); font-weight: 600; }
  .charts { display: grid; grid-template-columns: 1.3fr 1fr 1fr; gap: 10px; }
  figure { margin: 0; }
  figcaption { font-size: 12px; color: var(--muted); display: flex; gap: 2px 8px; flex-wrap: wrap; align-content: flex-start; }
  .charts figcaption { min-height: 2.9em; }
  figcaption i { font-style: normal; }
  figcaption i::before { content: ""; display: inline-block; width: 10px; height: 3px; margin: 0 4px 3px 0;
                         background: currentColor; vertical-align: middle; }
  .c-active { color: var(--active); } .c-idle { color: var(--idle); } .c-waiting { color: var(--waiting); }
  .c-creating { color: var(--creating); } .c-leases { color: var(--leases); }
  .c-createfail { color: var(--createfail); } .c-opfail { color: var(--opfail); }
  .c-open { color: #f8b4b4; } .c-halfopen { color: #fcd98a; } .c-p50 { color: var(--p50); } .c-p99 { color: var(--p99); }
  canvas { width: 100%; height: 110px; display: block; background: #fbfbfc; border: 1px solid var(--line); border-radius: 4px; }
  canvas.small { height: 60px; }
  .partitions { display: flex; gap: 14px; margin: 6px 0; flex-wrap: wrap; }
  .partition { min-width: 190px; }
  .bar { height: 8px; background: #eceff3; border-radius: 4px; overflow: hidden; }
  .bar > div { height: 100%; background: var(--active); transition: width .2s; }
  .nodes { display: grid; grid-template-columns: repeat(auto-fit, minmax(270px, 1fr)); gap: 8px; margin-top: 8px; }
  .node { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
  .node-head { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin-bottom: 4px; }
  .endpoint { color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
  .badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11px; font-weight: 600;
           background: #e5e7eb; color: #374151; }
  .ok { background: #dcfce7; color: #166534; } .warn { background: #fef3c7; color: #92400e; }
  .bad { background: #fee2e2; color: #991b1b; } .off { background: #e5e7eb; color: #4b5563; }
  button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #c8ccd4; border-radius: 4px;
           background: #fff; cursor: pointer; }
  button:hover:not(:disabled) { background: #eef2ff; border-color: #818cf8; }
  button:disabled { opacity: .45; cursor: default; }
  button.danger { border-color: #fca5a5; color: #991b1b; }
  .buttons { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 6px; }
  .err { color: #b91c1c; font-size: 12px; overflow-wrap: anywhere; }
  #activity-panel { margin: 0 18px 18px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
  #activity-panel h2 { font-size: 14px; margin: 0 0 6px; }
  #activity { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow: auto;
              font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
  #activity li { padding: 1px 0; }
  #activity .k-fault { color: #1d4ed8; font-weight: 600; } #activity .k-circuit { color: #b45309; }
  #activity .k-create-error, #activity .k-destroy { color: #b91c1c; } #activity .k-load, #activity .k-info { color: #374151; }
`;
