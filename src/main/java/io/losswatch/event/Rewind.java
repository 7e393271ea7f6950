package io.losswatch.event;

/**
 * A guard's rollback: at step {@code at} the run went back to its state after step {@code to} and went on with
 * the lr ×{@code lrAfter / lrBefore}, because of {@code why} (diverging, non_finite, spike).
 */
public record Rewind(long at, long to, double lrBefore, double lrAfter, String why) {
}
