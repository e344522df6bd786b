import type { TransportResult } from './checks.js';
import { formatCounts, maxTotal, perPhaseCounters, PHASES, type Phase } from './phases.js';

const PHASE_NAMES: Record<Phase, string> = { 1: '1 steady', 2: '2 faults', 3: '3 steady' };

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...rows.map(line)];
}

/** The markdown section of one transport: the per-phase table, then what ran. */
export function transportSection(result: TransportResult): string {
  const counters = perPhaseCounters(result.boundaries);
  const rows = PHASES.map((phase, index) => {
    const record = result.records[phase];
    return [
      PHASE_NAMES[phase],
      String(record.ops),
      formatCounts(record.failures),
      String(record.hung),
      String(counters[index]?.created ?? '?'),
      String(counters[index]?.destroyed ?? '?'),
      String(maxTotal(result.samples, phase)),
      record.latency.quantile(0.99).toFixed(1),
    ];
  });
  const lines = [
    `### ${result.name}`,
    '',
    `${result.setup}; at most ${result.connectionLimit} connections, the load needs ${result.connectionsNeeded}.`,
    '',
    ...markdownTable(['phase', 'ops', 'failed (by error)', 'hung', 'created', 'destroyed', 'max total', 'p99 ms'], rows),
    '',
    `Faults (phase 2): ${result.faults.map((fault) => `${fault.name} at ${(fault.startedAtMs / 1000).toFixed(1)} s`
      + ` (${fault.tookMs.toFixed(0)} ms)${fault.error === undefined ? '' : `, FAILED: ${fault.error}`}`).join('; ') || 'none'}.`,
    `Destroyed by reason: ${PHASES.map((phase) => `phase ${phase}: ${formatCounts(result.destroyReasons[phase])}`).join('; ')}.`,
  ];
  const unexplained = PHASES.flatMap((phase) => [...result.records[phase].firstErrors]
    .filter(([label]) => phase !== 2 || !result.expectedFaultErrors.includes(label))
    .map(([label, details]) => `phase ${phase}, ${label}:\n${details}`));
  if (unexplained.length > 0) lines.push('', 'First error of each unexpected kind:', '', '```', ...unexplained, '```');
  return lines.join('\n');
}
