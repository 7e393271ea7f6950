package io.losswatch.event;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.List;

/**
 * Why a request about a run is refused: a domain error, never an HTTP status. It fails a future as is, and crosses
 * request/reply (to a run's verticle, or to the node that owns a run) as a failure code of its own, which
 * {@link #of(Throwable)} reads back. The web layer alone maps each {@link Kind} to a status.
 */
public final class RunRefusal extends RuntimeException {
  /** What kind of no it is: whether to retry, to give up, or to change the request. */
  public enum Kind {
    /** No such run. */
    NOT_FOUND,
    /** The request is wrong ({@link #field()} names what): sending it again changes nothing. */
    INVALID,
    /** The run is in a state that does not allow it now (pause a paused run, resume a finished one). */
    CONFLICT,
    /** The run ended for good ({@link #state()}: finished, diverged, failed or stopped): it takes no more steps. */
    ENDED,
    /** The server has as many runs as it may. */
    TOO_MANY,
    /** The run cannot take this now (what waits for it is full, or it did not answer in time): send it again. */
    BUSY,
    /** The server is starting or stopping, or the run's node is moving it: send it again (to a node that is up). */
    UNAVAILABLE,
    /** The run's steps cannot be written now (a full disk): send them again later. */
    STORAGE,
    /** A new run's files cannot be created (a full disk). */
    NO_SPACE
  }

  /** The states a run ends in for good, in the order their failure codes count them. */
  private static final List<RunState> ENDS = List.of(RunState.FINISHED, RunState.DIVERGED, RunState.FAILED, RunState.STOPPED);
  /** Failure codes start here, far from any HTTP status or Vert.x's own codes. */
  private static final int BASE = 10_000;

  private final Kind kind;
  private final RunState state;
  private final String field;

  private RunRefusal(Kind kind, RunState state, String field, String message) {
    super(message, null, false, false);   // no stack trace: it is an answer, not a fault
    this.kind = kind;
    this.state = state;
    this.field = field;
  }

  public static RunRefusal of(Kind kind, String message) {
    if (kind == Kind.ENDED || kind == Kind.INVALID) throw new IllegalArgumentException(kind + " needs its state or field");
    return new RunRefusal(kind, null, null, message);
  }

  /** {@code field}: what in the request is wrong; the message is {@code "field: what"}, as every bad request's. */
  public static RunRefusal invalid(String field, String what) {
    return new RunRefusal(Kind.INVALID, null, field, field + ": " + what);
  }

  /** Run {@code run} ended as {@code state} (one of finished, diverged, failed, stopped): {@code what} it refuses. */
  public static RunRefusal ended(String run, RunState state, String what) {
    if (!ENDS.contains(state)) throw new IllegalArgumentException(state + " is no end");
    return new RunRefusal(Kind.ENDED, state, null, "run " + run + " is " + state.label() + ": " + what);
  }

  /** Whether a run in {@code state} ended for good, by its script, its guard or a person (not by a restart). */
  public static boolean isEnd(RunState state) {
    return ENDS.contains(state);
  }

  public Kind kind() {
    return kind;
  }

  /** The state a run ended in ({@link Kind#ENDED}), else null. */
  public RunState state() {
    return state;
  }

  /** The request's field to blame ({@link Kind#INVALID}), else null. */
  public String field() {
    return field;
  }

  /** Answers a request with this refusal. */
  public void fail(Message<?> m) {
    m.fail(code(), getMessage());
  }

  private int code() {
    return BASE + kind.ordinal() * 16 + (state == null ? 0 : 1 + ENDS.indexOf(state));
  }

  /**
   * The refusal {@code t} is or carries (a failed request/reply), else null: any other failure is a fault, not an
   * answer. An invalid request's field is read back from its message, which starts with it.
   */
  public static RunRefusal of(Throwable t) {
    if (t instanceof RunRefusal r) return r;
    if (!(t instanceof ReplyException e) || e.failureType() != ReplyFailure.RECIPIENT_FAILURE) return null;
    int code = e.failureCode() - BASE;
    if (code < 0 || code / 16 >= Kind.values().length || code % 16 > ENDS.size()) return null;
    Kind kind = Kind.values()[code / 16];
    RunState state = code % 16 == 0 ? null : ENDS.get(code % 16 - 1);
    String message = e.getMessage() == null ? kind.name().toLowerCase(java.util.Locale.ROOT) : e.getMessage();
    int colon = message.indexOf(": ");
    String field = kind == Kind.INVALID && colon > 0 ? message.substring(0, colon) : null;
    return new RunRefusal(kind, state, field, message);
  }
}
