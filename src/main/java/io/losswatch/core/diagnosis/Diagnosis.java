package io.losswatch.core.diagnosis;

/**
 * A run's verdict with its advice: {@code suggestedLr} is NaN when there is none (keep the lr, nothing to
 * gain, no lr change can help, or the run ended); {@code sinceStep} is the step from which the verdict holds;
 * {@code evidence} says why, for a person. {@code retryLr} is the lr a new run ("run again") should start at: set once
 * the run ended (the lr its advice would have set, or a decade under an lr it failed at), and at once for a dead run,
 * whose advice is to start again; NaN otherwise. Neither is ever an lr the run failed at.
 */
public record Diagnosis(Verdict verdict, String advice, double suggestedLr, long sinceStep, String evidence,
    double retryLr) {
  public static final Diagnosis UNKNOWN = new Diagnosis(Verdict.UNKNOWN, null, Double.NaN, 0, "too few steps yet");

  /** A live run's diagnosis. */
  public Diagnosis(Verdict verdict, String advice, double suggestedLr, long sinceStep, String evidence) {
    this(verdict, advice, suggestedLr, sinceStep, evidence, Double.NaN);
  }

  public boolean hasAdvice() {
    return !Double.isNaN(suggestedLr);
  }

  /**
   * Whether the verdict says the run trained well: an ended one is not told to try again (its retry lr stays, for
   * "run again", which never reuses an lr it failed at, e.g. before a guard's rewind rescued it).
   */
  public boolean healthy() {
    return verdict == Verdict.CONVERGING || verdict == Verdict.CONVERGED;
  }

  /** The same diagnosis with other evidence and advice (a policy's proof or label on a diagnoser's verdict). */
  public Diagnosis with(String newAdvice, double newSuggestedLr, String newEvidence) {
    return new Diagnosis(verdict, newAdvice, newSuggestedLr, sinceStep, newEvidence, retryLr);
  }

  /**
   * The same verdict once the run ended at {@code step} ({@code how}: its end state, "finished", "stopped", …): a run that
   * cannot change takes no advice, so the advice says it ended, and the lr it would have set becomes the
   * {@code retryLr} of a new run.
   */
  public Diagnosis ended(long step, String how) {
    return ended(step, how, hasAdvice() ? suggestedLr : retryLr);
  }

  /** {@link #ended(long, String)} with the retry lr given (NaN: none). */
  public Diagnosis ended(long step, String how, double retry) {
    // a restart cut it off: a built-in run resumes from its snapshot, a script's run goes on when it appends
    String advice = how.equals("interrupted")
        ? "a restart interrupted the run at step " + step + ": resume it to go on (its advice is proven again as it runs)"
        : "the run ended at step " + step + " (" + how + ")" + (Double.isNaN(retry) || healthy() ? ""
            : "; to try again, start a new run with lr " + Diagnoser.fmt(retry));
    return new Diagnosis(verdict, advice, Double.NaN, sinceStep, evidence, retry);
  }
}
