// Asgard's dashboard: CPU and memory graphs, loaded only by the pages that draw one,
// after uPlot. <div data-graph-src="/clusters/c/agents/a/history"> gets two charts
// (allocated as a solid line, in use as the meters said dotted, total dashed, so colour
// is never the only difference) inside
// its .graph-canvas; the page also states the latest numbers as text. The data is read
// again every GRAPH_EVERY_MS while the tab is visible, and when asgard.js has refreshed
// the page's live regions. Plain ES2020, no inline style or script.
"use strict";

(() => {
  const GRAPH_EVERY_MS = 15000;

  const graphs = new WeakMap();

  function axisColour(element) {
    return getComputedStyle(element).color || "#444";
  }

  function chartOptions(element, title, unit, width) {
    const colour = axisColour(element);
    const axis = { stroke: colour, grid: { stroke: "rgba(128,128,128,0.25)" } };
    return {
      title,
      width,
      height: 180,
      scales: { x: { time: true } },
      axes: [axis, { ...axis, label: unit }],
      series: [
        {},
        { label: "allocated", stroke: colour, width: 2 },
        { label: "in use", stroke: colour, width: 2, dash: [2, 3] },
        { label: "total", stroke: colour, width: 1, dash: [6, 4] },
      ],
    };
  }

  // samples as the API's agent history gives them:
  // { at, used_resources, resources, measured_resources (null: no meter, a gap) }
  function graphData(samples, field) {
    return [
      samples.map((s) => Date.parse(s.at) / 1000),
      samples.map((s) => s.used_resources[field]),
      samples.map((s) => (s.measured_resources ? s.measured_resources[field] : null)),
      samples.map((s) => s.resources[field]),
    ];
  }

  async function updateGraph(element) {
    let state = graphs.get(element);
    if (!state) {
      state = { charts: null };
      graphs.set(element, state);
    }
    let samples;
    try {
      const response = await fetch(element.dataset.graphSrc, { credentials: "same-origin" });
      if (!response.ok) return;
      samples = (await response.json()).history;
    } catch (error) {
      console.warn("asgard: graph data failed", error);
      return;
    }
    if (!window.uPlot) {
      window.addEventListener("load", () => window.uPlot && updateGraph(element), { once: true });
      return;
    }
    if (!samples.length) return;
    const cpu = graphData(samples, "cpus");
    const mem = graphData(samples, "mem");
    if (state.charts) {
      state.charts[0].setData(cpu);
      state.charts[1].setData(mem);
      return;
    }
    const width = Math.max(240, element.clientWidth || 600);
    const holder = element.querySelector(".graph-canvas") || element;
    state.charts = [
      new window.uPlot(chartOptions(element, "CPU (cores)", "cores", width), cpu, holder),
      new window.uPlot(chartOptions(element, "Memory (MiB)", "MiB", width), mem, holder),
    ];
    if ("ResizeObserver" in window) {
      new ResizeObserver(() => {
        const w = Math.max(240, element.clientWidth);
        for (const chart of state.charts) chart.setSize({ width: w, height: 180 });
      }).observe(element);
    }
  }

  function updateAll() {
    if (document.hidden) return;
    for (const graph of document.querySelectorAll("[data-graph-src]")) updateGraph(graph);
  }

  function start() {
    updateAll();
    document.addEventListener("asgard:refreshed", updateAll);
    setInterval(updateAll, GRAPH_EVERY_MS);
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
