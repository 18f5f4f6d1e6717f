// A guided tour beside the canvas: the step's words, kernel functions and pseudo-code, and an
// optional "predict before you look" quiz. Presentational: the integrator owns step and score.
import { useEffect, useId, useRef, useState } from 'react';
import type { Tour } from './tours/tours.ts';
import './TourPanel.css';

/** What moving onto a step changes: stat names that changed, levels of SPTEs written. */
export interface StepOutcome {
  stats: readonly string[];
  levels: readonly number[];
}

export interface TourPanelProps {
  tour: Tour;
  step: number;
  /** Go to a step: `play` runs its events at the chosen speed (Next), `jump` shows its end. */
  onStep: (step: number, how: 'play' | 'jump') => void;
  onExit: () => void;
  predict: boolean;
  onPredictChange: (on: boolean) => void;
  score: { right: number; asked: number };
  onAnswer: (correct: boolean) => void;
  /** What going from step - 1 to `step` changes. */
  outcome: (step: number) => StepOutcome;
}

const NONE = 'none';
const STAT_CHOICES = ['pages_4k', 'pages_2m', 'pages_1g', 'nx_lpage_splits'] as const;
const LEVEL_CHOICES = ['L1', 'L2', 'L3', 'L4'] as const;
const STAT_QUESTION = 'Which stats will change?';
const LEVEL_QUESTION = "Which levels' SPTEs will be written?";

const levelName = (level: number) => `L${level}`;
const listOrNone = (items: readonly string[]) => (items.length ? items.join(', ') : 'none');

/** A prediction is right when it names exactly the set that changed ("none" is the empty set). */
export function sameSet(answer: ReadonlySet<string>, actual: readonly string[]): boolean {
  const picked = [...answer].filter((a) => a !== NONE);
  return picked.length === actual.length && picked.every((a) => actual.includes(a));
}

function ChoiceGroup({
  question,
  choices,
  value,
  actual,
  autoFocus,
  onChange,
}: {
  question: string;
  choices: readonly string[];
  value: ReadonlySet<string>;
  /** What really happened, once revealed; the choices are locked from then on. */
  actual: readonly string[] | null;
  autoFocus: boolean;
  onChange: (next: Set<string>) => void;
}) {
  const id = useId();
  const all = [...choices, NONE];
  const choiceClass = (choice: string) =>
    actual !== null && (choice === NONE ? actual.length === 0 : actual.includes(choice))
      ? 'tour__choice tour__choice--actual'
      : 'tour__choice';
  // Checkboxes: arrow keys and Tab browse, only Space or a click picks, and several may be picked.
  const toggle = (choice: string, on: boolean) => {
    const next = new Set(value);
    if (on) {
      if (choice === NONE) next.clear();
      else next.delete(NONE);
      next.add(choice);
    } else next.delete(choice);
    onChange(next);
  };
  return (
    <fieldset className="tour__question" aria-labelledby={`${id}-q`}>
      <legend id={`${id}-q`} className="tour__legend">
        {question} <span className="tour__hint">(pick all that apply)</span>
      </legend>
      <div className="tour__choices">
        {all.map((choice, i) => (
          <label key={choice} className={choiceClass(choice)}>
            <input
              type="checkbox"
              value={choice}
              checked={value.has(choice)}
              disabled={actual !== null}
              autoFocus={autoFocus && i === 0}
              onChange={(e) => toggle(choice, e.currentTarget.checked)}
            />
            <span
              className={choice === NONE ? 'tour__choice-text' : 'tour__choice-text tour__mono'}
            >
              {choice}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function Verdict({ right, actual }: { right: boolean; actual: string }) {
  return (
    <p
      className={
        right ? 'tour__verdict tour__verdict--right' : 'tour__verdict tour__verdict--wrong'
      }
    >
      <strong>{right ? 'Right.' : 'Not this time.'}</strong> {actual}
    </p>
  );
}

/** The two questions about the next step; Check reveals and scores both, once. */
function PredictQuiz({
  outcome,
  onAnswer,
  onContinue,
}: {
  outcome: StepOutcome;
  onAnswer: (correct: boolean) => void;
  onContinue: () => void;
}) {
  const [stats, setStats] = useState<Set<string>>(new Set());
  const [levels, setLevels] = useState<Set<string>>(new Set());
  const [revealed, setRevealed] = useState(false);
  const actualLevels = outcome.levels.map(levelName);
  const ready = stats.size > 0 && levels.size > 0;

  const check = () => {
    if (revealed || !ready) return;
    setRevealed(true);
    onAnswer(sameSet(stats, outcome.stats));
    onAnswer(sameSet(levels, actualLevels));
  };

  return (
    <div className="tour__quiz" role="group" aria-label="Predict the next step">
      <p className="tour__quiz-intro">Before the next step runs: what will it change?</p>
      <ChoiceGroup
        question={STAT_QUESTION}
        choices={STAT_CHOICES}
        value={stats}
        actual={revealed ? outcome.stats : null}
        autoFocus
        onChange={setStats}
      />
      {revealed && (
        <Verdict
          right={sameSet(stats, outcome.stats)}
          actual={`Changed: ${listOrNone(outcome.stats)}.`}
        />
      )}
      <ChoiceGroup
        question={LEVEL_QUESTION}
        choices={LEVEL_CHOICES}
        value={levels}
        actual={revealed ? actualLevels : null}
        autoFocus={false}
        onChange={setLevels}
      />
      {revealed && (
        <Verdict
          right={sameSet(levels, actualLevels)}
          actual={`Written: ${listOrNone(actualLevels)}.`}
        />
      )}
      {revealed ? (
        <button type="button" className="tour__primary" autoFocus onClick={onContinue}>
          Continue
        </button>
      ) : (
        <button type="button" className="tour__primary" disabled={!ready} onClick={check}>
          Check
        </button>
      )}
    </div>
  );
}

/** One pseudo-code line, its trailing `# comment` muted. */
function CodeText({ text }: { text: string }) {
  const hash = text.indexOf('  # ');
  return (
    <code className="tour__code-text">
      {hash < 0 ? (
        text
      ) : (
        <>
          {text.slice(0, hash)}
          <span className="tour__comment">{text.slice(hash)}</span>
        </>
      )}
    </code>
  );
}

/** The current step of a tour, its pseudo-code, navigation and the Predict quiz. */
export function TourPanel({
  tour,
  step,
  onStep,
  onExit,
  predict,
  onPredictChange,
  score,
  onAnswer,
  outcome,
}: TourPanelProps) {
  // The quiz belongs to the step it was opened on; any step change, from here or outside, closes it.
  const [quizFor, setQuizFor] = useState<number | null>(null);
  const [shownStep, setShownStep] = useState(step);
  if (shownStep !== step) {
    setShownStep(step);
    setQuizFor(null);
  }
  const [summary, setSummary] = useState(false);
  const titleRef = useRef<HTMLHeadingElement>(null);
  // A step change moves focus off the button that caused it: Space then plays, not skips.
  useEffect(() => {
    const active = document.activeElement;
    if (active instanceof HTMLElement && active.closest('.tour__nav')) titleRef.current?.focus();
  }, [step]);
  const count = tour.steps.length;
  const current = tour.steps[step];
  if (!current) return null;
  const last = step === count - 1;
  const quizOpen = predict && !last && quizFor === step;

  const next = () => {
    if (last) {
      if (score.asked > 0) setSummary(true);
      else onExit();
    } else if (predict) setQuizFor(step);
    else onStep(step + 1, 'play');
  };

  if (summary) {
    return (
      <section className="tour" aria-label="Guided tour">
        <header className="tour__header">
          <h2 className="tour__title">{tour.title}</h2>
        </header>
        <div className="tour__body" data-testid="tour-summary">
          <h3 className="tour__step-title">The end of the tour</h3>
          <p className="tour__text">
            You predicted {score.right} of {score.asked} answers right
            {score.asked > 0 ? ` (${Math.round((100 * score.right) / score.asked)} %)` : ''}.
          </p>
        </div>
        <footer className="tour__footer">
          <div className="tour__nav">
            <button type="button" onClick={() => setSummary(false)}>
              Back to the last step
            </button>
            <button type="button" className="tour__primary" autoFocus onClick={onExit}>
              Close the tour
            </button>
          </div>
        </footer>
      </section>
    );
  }

  return (
    <section className="tour" aria-label="Guided tour">
      <header className="tour__header">
        <h2 className="tour__title">{tour.title}</h2>
        <button type="button" className="tour__exit" onClick={onExit}>
          Exit tour
        </button>
      </header>

      <nav className="tour__progress" aria-label="Tour steps">
        <span className="tour__count" data-testid="tour-step">
          Step {step + 1} of {count}
        </span>
        <ol className="tour__dots">
          {tour.steps.map((s, i) => (
            <li key={i}>
              <button
                type="button"
                className={i === step ? 'tour__dot tour__dot--current' : 'tour__dot'}
                aria-label={`Step ${i + 1}: ${s.title}`}
                aria-current={i === step ? 'step' : undefined}
                title={s.title}
                onClick={() => onStep(i, 'jump')}
              />
            </li>
          ))}
        </ol>
      </nav>

      {/* Keyed by step so each step starts scrolled to its title. */}
      <div key={step} className="tour__body">
        <h3 className="tour__step-title" tabIndex={-1} ref={titleRef}>
          {current.title}
        </h3>
        <p className="tour__text">{current.text}</p>

        <h4 className="tour__subhead">Kernel functions</h4>
        <ul className="tour__chips">
          {current.kernel.map((fn) => (
            <li key={fn} className="tour__chip">
              {fn}
            </li>
          ))}
        </ul>

        <h4 className="tour__subhead">Pseudo-code</h4>
        <ol className="tour__code" aria-label="Pseudo-code">
          {current.pseudo.map((text, i) => (
            <li
              key={i}
              className={
                i === current.line ? 'tour__code-line tour__code-line--at' : 'tour__code-line'
              }
              aria-current={i === current.line ? 'true' : undefined}
            >
              <span className="tour__ln" aria-hidden="true">
                {i + 1}
              </span>
              <span className="tour__marker" aria-hidden="true" />
              <CodeText text={text} />
              {i === current.line && <span className="sr-only"> (this step)</span>}
            </li>
          ))}
        </ol>

        {quizOpen && (
          <PredictQuiz
            outcome={outcome(step + 1)}
            onAnswer={onAnswer}
            onContinue={() => onStep(step + 1, 'play')}
          />
        )}
      </div>

      <footer className="tour__footer">
        <div className="tour__nav">
          <button type="button" disabled={step === 0} onClick={() => onStep(step - 1, 'jump')}>
            Back
          </button>
          {!last && (
            <button
              type="button"
              disabled={quizOpen}
              onClick={() => onStep(step + 1, 'jump')}
              title="Jump to the end of the next step without playing it"
            >
              Skip
            </button>
          )}
          <button
            type="button"
            className="tour__primary"
            disabled={quizOpen}
            onClick={next}
            title={last ? undefined : 'Play the next step at the chosen speed'}
          >
            {last ? 'Finish' : 'Next'}
          </button>
        </div>
        <div className="tour__predict">
          <label className="tour__switch">
            <input
              type="checkbox"
              checked={predict}
              onChange={(e) => {
                setQuizFor(null);
                onPredictChange(e.currentTarget.checked);
              }}
            />
            Predict
          </label>
          <span className="tour__score" title="Predictions right / asked">
            Score <span data-testid="tour-score">{`${score.right} / ${score.asked}`}</span>
          </span>
        </div>
      </footer>
    </section>
  );
}
