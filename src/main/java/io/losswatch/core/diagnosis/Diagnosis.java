package io.losswatch.core.diagnosis;

/**
 * A run's verdict with its advice: {@code suggestedLr} is NaN when there is none (keep the lr, nothing to
 * gain, or the run ended); {@code sinceStep} is the step from which the verdict holds; {@code evidence} says
 * why, for a person. {@code retryLr} is only set once the run ended: the lr its advice would have set, for a
 * new run ("run again"); NaN otherwise.
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
   * The same verdict once the run ended at {@code step} ({@code how}: its end state, "finished", "stopped", …): a run that
   * cannot change takes no advice, so the advice says it ended, and the lr it would have set becomes the
   * {@code retryLr} of a new run.
   */
  public Diagnosis ended(long step, String how) {
    // a restart cut it off: a built-in run resumes from its snapshot, a script's run goes on when it appends
    String advice = how.equals("interrupted")
        ? "a restart interrupted the run at step " + step + ": resume it to go on (its advice is proven again as it runs)"
        : "the run ended at step " + step + " (" + how + ")" + (hasAdvice()
            ? "; to try again, start a new run with lr " + Diagnoser.fmt(suggestedLr) : "");
    return new Diagnosis(verdict, advice, Double.NaN, sinceStep, evidence, suggestedLr);
  }
}
