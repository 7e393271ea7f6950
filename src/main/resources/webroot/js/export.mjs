// Export: runs' histories and configs as CSV or JSON, as the server writes them (GET /api/export), saved as a
// file in one click.
import { fetchText } from './api.mjs';
import { feedback } from './alerts.mjs';
import { page } from './state.mjs';

export async function exportRuns(ids, format, what) {
  if (!ids.length) { feedback('no run drawn: nothing to export', true); return; }
  const res = await fetchText(`/api/export?format=${format}&runs=${ids.map(encodeURIComponent).join(',')}`);
  if (!res.ok) { feedback(`export: ${res.message}`, true); return; }
  const stem = ids.length === 1 ? String(what || ids[0]).replace(/[^\w.-]+/g, '-') : `losswatch-${ids.length}-runs`;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([res.text], { type: format === 'csv' ? 'text/csv' : 'application/json' }));
  a.download = `${stem}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  page.exported = { file: a.download, text: res.text };
  feedback(`exported ${ids.length === 1 ? what || ids[0] : `${ids.length} runs`} as ${format.toUpperCase()}`);
}
