package io.losswatch.web;

import io.losswatch.event.RunRefusal;

/**
 * A request refused with an HTTP status and a message, optionally naming the field to blame, or the state a run
 * ended in. The one place a run's refusal becomes a status is {@link #of(RunRefusal)}.
 */
final class ApiError extends RuntimeException {
  final int status;
  final String field;
  final String state;

  ApiError(int status, String message, String field) {
    this(status, message, field, null);
  }

  private ApiError(int status, String message, String field, String state) {
    super(message, null, false, false);   // no stack trace: it never reaches a client anyway
    this.status = status;
    this.field = field;
    this.state = state;
  }

  /**
   * A run's refusal as HTTP. A 409 to an append means the run ended for good, and its body names the state; a
   * 503 says "send it again" (the server is starting or stopping, the run is moving or busy, or its steps cannot be
   * written now).
   */
  static ApiError of(RunRefusal r) {
    int status = switch (r.kind()) {
      case NOT_FOUND -> 404;
      case INVALID -> 400;
      case CONFLICT, ENDED -> 409;
      case TOO_MANY -> 429;
      case BUSY, UNAVAILABLE, STORAGE -> 503;
      case NO_SPACE -> 507;
    };
    return new ApiError(status, r.getMessage(), r.field(), r.state() == null ? null : r.state().label());
  }

  static ApiError notFound(String id) {
    return new ApiError(404, "no run with id \"" + id + "\"", "id");
  }
}
