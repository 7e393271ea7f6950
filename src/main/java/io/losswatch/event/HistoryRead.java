package io.losswatch.event;

/**
 * A request to the node that holds run {@code run}'s history: at most {@code count} of its steps, from step
 * {@code from} on. The reply is a {@link StepBatch}.
 */
public record HistoryRead(String run, long from, int count) {
}
