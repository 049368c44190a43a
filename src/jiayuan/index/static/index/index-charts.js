/* Governance index charts: a line chart fed by json_script data ([data-chart="line"]). */
(function () {
  "use strict";
  function line(el) {
    var holder = document.getElementById(el.dataset.chartId);
    if (!holder) { return; }
    var d = JSON.parse(holder.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      title: { text: d.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 12, top: 40, bottom: 30 },
      xAxis: { type: "category", data: d.labels },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ name: d.series, type: "line", data: d.values, connectNulls: false, itemStyle: { color: "#2f80ed" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "1");
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll('[data-chart="line"]').forEach(line);
  });
})();
