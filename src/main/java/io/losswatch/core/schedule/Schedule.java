package io.losswatch.core.schedule;

import io.losswatch.core.state.State;

/**
 * A learning-rate schedule with {@code torch.optim.lr_scheduler} semantics. It keeps its own learning rate
 * (torch's {@code param_group['lr']}) and advances it once after each optimizer step, the way a torch loop
 * does {@code opt.step(); sched.step()}. The trainer copies {@link #lr()} (and {@link #momentum()}) into the
 * optimizer; the schedule never touches the optimizer itself.
 */
public interface Schedule {
  /** The learning rate for the next optimizer step. */
  double lr();

  /** Advances one step; {@code loss} is the loss of the step just taken (only plateau looks at it). */
  void step(double loss);

  /** The momentum (or Adam's beta1) for the next step when the schedule cycles it, else NaN. */
  default double momentum() {
    return Double.NaN;
  }

  /** What {@link #step} changes, as torch's {@code scheduler.state_dict()}. */
  State state();

  /** Takes back a {@link #state()} of a schedule built from the same config and base lr. */
  void load(State s);

  /** A validated schedule description; each {@link #create} call is a fresh schedule at step 0. */
  interface Config {
    /** The schedule's name in a RunSpec. */
    String type();

    /** A schedule starting from the optimizer's initial learning rate, as torch's constructor does. */
    Schedule create(double baseLr);
  }
}
