// Draw every Plotly figure of the page and turn clicks on points into drill-down links.
// Each chart div names a <script type="application/json"> holding {data, layout}; a point's
// customdata is the URL its click opens.
(function () {
  function draw(el) {
    // the height is set here, not in a style attribute, which the Content-Security-Policy refuses
    if (el.dataset.height) { el.style.height = el.dataset.height + "px"; }
    var source = document.getElementById(el.dataset.figure);
    if (!source || typeof Plotly === "undefined") { return; }
    var fig = JSON.parse(source.textContent);
    Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true}).then(function () {
      el.dataset.ready = "1";
    });
    el.on("plotly_click", function (ev) {
      var p = ev.points && ev.points[0];
      var url = p && p.customdata;
      if (Array.isArray(url)) { url = url[0]; }
      if (url) { window.location.href = url; }
    });
  }
  document.querySelectorAll("div.chart[data-figure]").forEach(draw);
})();
