// The page's entry point (bundled as app.js): a report carries its data inlined in
// <script type="application/json" id="resnorm-data">; the live page follows the server's event stream.

import { App } from './app.ts';
import { connectEvents, replayReport, type ReportData } from './source.ts';
import './app.css';

function start(): void {
  const inline = document.getElementById('resnorm-data');
  const root = document.getElementById('app') ?? document.body;
  if (inline) {
    const data = JSON.parse(inline.textContent ?? '{}') as ReportData;
    const app = new App(root, 'report', data.generated);
    void replayReport(data, (e) => app.apply(e));
  } else {
    const app = new App(root, 'live');
    connectEvents(
      (e) => app.apply(e),
      (s) => app.setStatus(s),
    );
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
