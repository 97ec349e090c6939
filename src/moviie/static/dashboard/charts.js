// Moviie's dashboard charts (uPlot, loaded before this file on the analytics page).
// ---- analytics charts (uPlot): views and watch time a day, and the retention curve
(function () {
  "use strict";
  const holder = document.getElementById("charts");
  if (!holder || !window.uPlot) return;
  const data = JSON.parse(holder.dataset.series);
  for (const element of holder.querySelectorAll("[data-chart]")) {
    const name = element.dataset.chart;
    const width = Math.max(320, element.clientWidth || 640);
    if (name === "retention") {
      const xs = data.retention.map((_, i) => i);
      new uPlot({ width, height: 200, scales: { x: { time: false }, y: { range: [0, 1] } },
        axes: [{ label: "% of the video" }, {}],
        series: [{}, { label: "share of views", stroke: "#1f5fd6", fill: "rgba(31,95,214,.12)" }] },
      [xs, data.retention], element);
    } else {
      new uPlot({ width, height: 200,
        series: [{}, { label: name === "views" ? "views" : "minutes", stroke: "#1f5fd6" }] },
      [data.days, data[name]], element);
    }
  }
})();
