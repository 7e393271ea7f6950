package io.losswatch.event;

/** A script says its external run is over: {@code finished}, or {@code failed} with a message (request/reply). */
public record Finish(RunState state, String message) {
}
