import type { Answer } from '../api/client';
import { formatMillis, formatTime } from '../lib/format';

/** An instance's timeline as the API answers it. */
export type Timeline = Answer<'getWorkflowInstance'>['timeline'];

const ROW = 26;
const LABEL = 150;
const WIDTH = 900;

/** A lane of the chart: a step's attempts, or the timers, or the signals. */
interface Lane {
  label: string;
  marks: Mark[];
}

/** One thing on the time axis: a span (an attempt) or an instant (a timer, a signal). */
interface Mark {
  from: number;
  to?: number;
  kind: string;
  title: string;
}

/** Steps with their attempts on a time axis, then the timers and signals, as one SVG chart. */
export function WorkflowTimeline({
  timeline,
  startedAt,
  endedAt,
}: {
  timeline: Timeline;
  startedAt: string;
  endedAt: string | null;
}) {
  const lanes = lanesOf(timeline);
  const start = Date.parse(startedAt);
  // The axis runs to the end (or now); a timer due later sits at its right edge, so a far SLA
  // deadline does not squash the attempts into a sliver.
  const now = endedAt ? Date.parse(endedAt) : Date.now();
  const times = lanes.flatMap((lane) => lane.marks.flatMap((m) => [m.from, m.to ?? m.from]));
  const end = Math.max(now, ...times.filter((t) => t <= now), start + 1);
  const x = (t: number) => LABEL + ((Math.min(t, end) - start) / (end - start)) * (WIDTH - LABEL - 10);
  const height = lanes.length * ROW + 24;
  return (
    <figure class="timeline">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        role="img"
        aria-label={`Timeline from ${formatTime(startedAt)}, over ${formatMillis(end - start)}`}
      >
        {lanes.map((lane, row) => (
          <g key={lane.label} data-lane={lane.label} transform={`translate(0 ${row * ROW})`}>
            <text x={0} y={17} class="timeline-label">
              {lane.label}
            </text>
            <line x1={LABEL} x2={WIDTH - 10} y1={13} y2={13} class="timeline-rule" />
            {lane.marks.map((mark, i) =>
              mark.to === undefined ? (
                <circle key={i} cx={x(mark.from)} cy={13} r={5} class={`mark ${mark.kind}`}>
                  <title>{mark.title}</title>
                </circle>
              ) : (
                <rect
                  key={i}
                  x={x(mark.from)}
                  y={5}
                  width={Math.max(3, x(mark.to) - x(mark.from))}
                  height={16}
                  rx={3}
                  class={`mark ${mark.kind}`}
                  data-attempt={mark.kind}
                >
                  <title>{mark.title}</title>
                </rect>
              ),
            )}
          </g>
        ))}
        <text x={LABEL} y={height - 4} class="timeline-label">
          {formatTime(startedAt)}
        </text>
        <text x={WIDTH - 10} y={height - 4} text-anchor="end" class="timeline-label">
          +{formatMillis(end - start)}
        </text>
      </svg>
      <figcaption>
        <ul class="sr-only">
          {lanes.flatMap((lane) =>
            lane.marks.map((mark, i) => <li key={`${lane.label}${i}`}>{`${lane.label}: ${mark.title}`}</li>),
          )}
        </ul>
      </figcaption>
    </figure>
  );
}

/** The lanes: one per step (its attempts), then the timers and the signals when there are any. */
function lanesOf(timeline: Timeline): Lane[] {
  const now = Date.now();
  const lanes: Lane[] = timeline.steps.map((step) => ({
    label: step.name,
    marks: step.attempts
      .filter((attempt) => attempt.startedAt)
      .map((attempt) => ({
        from: Date.parse(attempt.startedAt as string),
        to: attempt.endedAt ? Date.parse(attempt.endedAt) : now,
        kind: attempt.outcome,
        title: `attempt ${attempt.attempt} ${attempt.outcome}${
          attempt.durationMs === null ? '' : ` in ${formatMillis(attempt.durationMs)}`
        }${attempt.error ? `: ${attempt.error.message}` : ''}`,
      })),
  }));
  if (timeline.timers.length > 0)
    lanes.push({
      label: 'timers',
      marks: timeline.timers.map((timer) => ({
        from: Date.parse(timer.dueAt),
        kind: 'timer',
        title: `${timer.kind} timer${timer.step ? ` of ${timer.step}` : ''} due ${formatTime(timer.dueAt)}`,
      })),
    });
  if (timeline.signals.length > 0)
    lanes.push({
      label: 'signals',
      marks: timeline.signals.map((signal) => ({
        from: Date.parse(signal.receivedAt),
        kind: 'signal',
        title: `signal ${signal.name} received ${formatTime(signal.receivedAt)}${
          signal.consumedBy ? `, taken by ${signal.consumedBy}` : ', waiting'
        }`,
      })),
    });
  return lanes;
}
