// Presentation mode's caption beside the picture: the operation, and what the event at the
// cursor did (or the operation's outcome), in type a room can read.
import { useStepWords } from './step-words.ts';
import './StepCaption.css';

export function StepCaption() {
  const { now, op, outcome } = useStepWords();
  return (
    <div className="step-caption" data-testid="step-caption">
      {op && <p className="step-caption__op">{op}</p>}
      <p className="step-caption__now">{outcome ? `→ ${outcome}` : now}</p>
    </div>
  );
}
