package io.losswatch.core.diagnosis;

/**
 * A run's verdict with its advice: {@code suggestedLr} is NaN when there is none (keep the lr, or nothing
 * to gain); {@code sinceStep} is the step from which the verdict holds; {@code evidence} says why, for a
 * person.
 */
public record Diagnosis(Verdict verdict, String advice, double suggestedLr, long sinceStep, String evidence) {
  public static final Diagnosis UNKNOWN = new Diagnosis(Verdict.UNKNOWN, null, Double.NaN, 0, "too few steps yet");

  public boolean hasAdvice() {
    return !Double.isNaN(suggestedLr);
  }
}
