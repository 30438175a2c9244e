// A small line chart drawn as inline SVG, with its latest value as text.

const SVG = "http://www.w3.org/2000/svg";

export function lineChart(label, points, format) {
  const width = 300;
  const height = 80;
  const figure = document.createElement("figure");
  figure.className = "chart";
  const caption = document.createElement("figcaption");
  const last = points.length ? points[points.length - 1][1] : null;
  const name = document.createElement("span");
  name.textContent = label;
  const value = document.createElement("strong");
  value.textContent = last === null ? "–" : format(last);
  caption.append(name, " ", value);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${label}: ${value.textContent}`);
  if (points.length > 1) {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys)];
    const sx = (x) => ((x - x0) / (x1 - x0 || 1)) * (width - 4) + 2;
    const sy = (y) => height - 2 - ((y - y0) / (y1 - y0 || 1)) * (height - 4);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "));
    line.setAttribute("class", "line");
    svg.append(line);
  }
  figure.append(caption, svg);
  return figure;
}
