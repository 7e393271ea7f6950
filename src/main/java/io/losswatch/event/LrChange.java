package io.losswatch.event;

/**
 * A change of a run's learning rate, effective from {@code step}: {@code cause} is "set" (a person, over
 * REST), "advice" (the diagnosis' advice, applied on request) or "auto" ({@code auto_lr}).
 */
public record LrChange(long step, double from, double to, String cause) {
}
