/* Dashboard charts: draws each <canvas data-chart-source="ID"> from the JSON in <script id="ID">.
 * Chart.js is served by the app (/static/vendor/chart.js/...). Without JavaScript, or if the
 * library did not load, the table beside the canvas carries the same numbers. */
(function () {
  "use strict";

  function rupiah(value) {
    return "Rp" + Math.round(value).toLocaleString("id-ID");
  }

  function number(value) {
    return Math.round(value).toLocaleString("id-ID");
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || typeof window.Chart === "undefined") {
      canvas.hidden = true;
      return;
    }
    var data = JSON.parse(source.textContent);
    var labels = data.labels.map(function (iso) {
      var parts = iso.split("-");
      return new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2])).toLocaleDateString(
        document.documentElement.lang || "id", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
    });
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          { label: canvas.dataset.labelInArrears, data: data.in_arrears, yAxisID: "people", borderColor: "#b45309", backgroundColor: "#b45309" },
          { label: canvas.dataset.labelVerified, data: data.verified, yAxisID: "people", borderColor: "#047857", backgroundColor: "#047857" },
          { label: canvas.dataset.labelArrearsTotal, data: data.arrears_total, yAxisID: "money", borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", borderDash: [6, 4] }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed.y;
                return ctx.dataset.label + ": " + (ctx.dataset.yAxisID === "money" ? rupiah(v) : number(v));
              }
            }
          }
        },
        scales: {
          people: { type: "linear", position: "left", beginAtZero: true, ticks: { callback: number, precision: 0 } },
          money: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: rupiah } }
        }
      }
    });
  }

  function init() {
    document.querySelectorAll("canvas[data-chart-source]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
