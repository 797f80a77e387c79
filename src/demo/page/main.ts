// The demo page's entry point (bundled as app.js, with the dashboard's styles and uPlot's in app.css).

import { DemoApp } from './app.ts';
import './demo.css';

function start(): void {
  new DemoApp(document.getElementById('app') ?? document.body);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
