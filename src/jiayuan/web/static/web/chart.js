/* Jiayuan charts: ECharts bar charts fed by json_script data ([data-chart="bar"]). */
(function () {
  "use strict";
  function bar(el) {
    var holder = document.getElementById(el.dataset.chartId);
    if (!holder) { return; }
    var d = JSON.parse(holder.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      title: { text: d.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 12, top: 40, bottom: 50 },
      xAxis: { type: "category", data: d.labels, axisLabel: { rotate: d.labels.length > 8 ? 45 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: d.series, type: "bar", barMaxWidth: 48, data: d.values, itemStyle: { color: "#b42318" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-ready", "1");
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll('[data-chart="bar"]').forEach(bar);
  });
})();
