// A small line chart of how a cost grows with problem size, one line per strategy.
import { format, line, scaleLinear, scaleLog } from 'd3';
import type { JSX } from 'react';
import './ScalingChart.css';

export interface ScalingPoint {
  x: number;
  y: number;
}

export interface ScalingSeries {
  label: string;
  /** A CSS custom property name such as '--spte-4k'; the series is drawn in var(cssVar). */
  cssVar: string;
  points: readonly ScalingPoint[];
}

export interface ScalingChartProps {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ScalingSeries[];
  width?: number;
  height?: number;
}

const MARGIN = { top: 10, right: 16, bottom: 38, left: 52 };
const TICK = 4;
const DOT_RADIUS = 2.5;

const UNITS: readonly (readonly [number, string])[] = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];
const smallFormat = format('~g');
const fullFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** Short tick label: 519, 1.2k, 33k, 3.4M. */
function compactNumber(v: number): string {
  const a = Math.abs(v);
  for (const [unit, suffix] of UNITS) {
    // Switch a little early so 999,960 reads "1M", not "1000k".
    if (a >= unit * 0.9995) {
      const s = v / unit;
      return `${format(Math.abs(s) >= 100 ? '.0f' : '.1~f')(s)}${suffix}`;
    }
  }
  return smallFormat(v);
}

// "NX-accounted tables (N)" names its variable N; otherwise fall back to a generic x.
function xSymbol(xLabel: string): string {
  return /\(([^()]+)\)\s*$/.exec(xLabel)?.[1]?.trim() ?? 'x';
}

function cleanPoints(points: readonly ScalingPoint[]): ScalingPoint[] {
  return points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .sort((a, b) => a.x - b.x);
}

function summarise(series: readonly { label: string; points: ScalingPoint[] }[], sym: string) {
  const at = (p: ScalingPoint) => `${fullFormat.format(p.y)} at ${sym}=${fullFormat.format(p.x)}`;
  return series
    .map(({ label, points }) => {
      const first = points[0];
      const last = points[points.length - 1];
      if (!first || !last) return `${label}: no data`;
      return first === last ? `${label}: ${at(first)}` : `${label}: ${at(first)} … ${at(last)}`;
    })
    .join('; ');
}

interface XAxis {
  scale: (v: number) => number;
  ticks: number[];
}

function buildXAxis(xs: readonly number[], innerWidth: number): XAxis {
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const count = Math.max(2, Math.floor(innerWidth / 45));
  // Sizes that double (1, 2, 4 … 64) would crowd the left edge on a linear axis.
  if (min > 0 && max / min >= 8) {
    const s = scaleLog().base(2).domain([min, max]).range([0, innerWidth]).nice();
    return { scale: (v) => s(v), ticks: s.ticks(count) };
  }
  const domain: [number, number] = min === max ? [min - 1, max + 1] : [min, max];
  const s = scaleLinear().domain(domain).range([0, innerWidth]).nice(count);
  return { scale: (v) => s(v), ticks: s.ticks(count) };
}

export function ScalingChart({
  title,
  xLabel,
  yLabel,
  series,
  width = 360,
  height = 200,
}: ScalingChartProps): JSX.Element {
  const cleaned = series.map((s) => ({ ...s, points: cleanPoints(s.points) }));
  const all = cleaned.flatMap((s) => s.points);

  if (all.length === 0) {
    return (
      <figure className="scaling-chart" data-testid="scaling-chart" style={{ maxWidth: width }}>
        <figcaption className="scaling-chart__title">{title}</figcaption>
        <p className="scaling-chart__empty" style={{ height }}>
          No data
        </p>
      </figure>
    );
  }

  const innerWidth = Math.max(1, width - MARGIN.left - MARGIN.right);
  const innerHeight = Math.max(1, height - MARGIN.top - MARGIN.bottom);

  const x = buildXAxis(
    all.map((p) => p.x),
    innerWidth,
  );

  const yMin = Math.min(0, ...all.map((p) => p.y));
  const yMax = Math.max(0, ...all.map((p) => p.y));
  const yCount = Math.max(2, Math.round(innerHeight / 36));
  const yScale = scaleLinear()
    .domain(yMin === yMax ? [0, 1] : [yMin, yMax])
    .range([innerHeight, 0])
    .nice(yCount);
  const yTicks = yScale.ticks(yCount);

  const path = line<ScalingPoint>()
    .x((p) => x.scale(p.x))
    .y((p) => yScale(p.y));

  const sym = xSymbol(xLabel);
  const xValues = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);

  return (
    <figure className="scaling-chart" data-testid="scaling-chart" style={{ maxWidth: width }}>
      <figcaption className="scaling-chart__title">{title}</figcaption>
      <ul className="scaling-chart__legend" aria-hidden="true">
        {cleaned.map((s, i) => (
          <li key={`${i}:${s.label}`} className="scaling-chart__legend-item">
            <span className="scaling-chart__swatch" style={{ background: `var(${s.cssVar})` }} />
            {s.label}
          </li>
        ))}
      </ul>
      <svg
        className="scaling-chart__svg"
        role="img"
        aria-label={summarise(cleaned, sym)}
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
      >
        <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
          <g className="scaling-chart__grid">
            {yTicks.map((t) => (
              <line key={`y${t}`} x1={0} x2={innerWidth} y1={yScale(t)} y2={yScale(t)} />
            ))}
            {x.ticks.map((t) => (
              <line key={`x${t}`} x1={x.scale(t)} x2={x.scale(t)} y1={0} y2={innerHeight} />
            ))}
          </g>

          <g className="scaling-chart__axis">
            <line x1={0} x2={0} y1={0} y2={innerHeight} />
            {yTicks.map((t) => (
              <g key={t} transform={`translate(0,${yScale(t)})`}>
                <line x1={-TICK} x2={0} />
                <text x={-TICK - 3} dy="0.32em" textAnchor="end">
                  {compactNumber(t)}
                </text>
              </g>
            ))}
          </g>

          <g className="scaling-chart__axis" transform={`translate(0,${innerHeight})`}>
            <line x1={0} x2={innerWidth} />
            {x.ticks.map((t) => (
              <g key={t} transform={`translate(${x.scale(t)},0)`}>
                <line y1={0} y2={TICK} />
                <text y={TICK + 3} dy="0.71em" textAnchor="middle">
                  {compactNumber(t)}
                </text>
              </g>
            ))}
          </g>

          {cleaned.map((s, i) => (
            <g
              key={`${i}:${s.label}`}
              className="scaling-chart__series"
              style={{ color: `var(${s.cssVar})` }}
            >
              <path
                className="scaling-chart__line"
                data-series={s.label}
                d={path(s.points) ?? ''}
              />
              {s.points.map((p, j) => (
                <circle
                  key={j}
                  className="scaling-chart__dot"
                  cx={x.scale(p.x)}
                  cy={yScale(p.y)}
                  r={DOT_RADIUS}
                >
                  <title>{`${s.label}: ${fullFormat.format(p.y)} at ${sym}=${fullFormat.format(p.x)}`}</title>
                </circle>
              ))}
            </g>
          ))}

          <text
            className="scaling-chart__label"
            x={innerWidth / 2}
            y={innerHeight + MARGIN.bottom - 4}
            textAnchor="middle"
          >
            {xLabel}
          </text>
          <text
            className="scaling-chart__label"
            transform={`translate(${-MARGIN.left + 12},${innerHeight / 2}) rotate(-90)`}
            textAnchor="middle"
          >
            {yLabel}
          </text>
        </g>
      </svg>

      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{xLabel}</th>
            {cleaned.map((s, i) => (
              <th key={`${i}:${s.label}`} scope="col">
                {`${s.label} (${yLabel})`}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {xValues.map((xv) => (
            <tr key={xv}>
              <th scope="row">{fullFormat.format(xv)}</th>
              {cleaned.map((s, i) => {
                const p = s.points.find((q) => q.x === xv);
                return <td key={`${i}:${s.label}`}>{p ? fullFormat.format(p.y) : '—'}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
