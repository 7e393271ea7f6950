package io.losswatch.event;

import io.losswatch.core.state.State;
import java.util.List;

/**
 * Where a branch starts: a run's exact state after step {@code from} and the lr changes it made after it, to
 * replay up to {@code to} (whoever replays does it off the event loop).
 */
public record Fork(State state, long from, long to, List<LrChange> changes) {
}
