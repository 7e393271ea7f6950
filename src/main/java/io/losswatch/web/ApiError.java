package io.losswatch.web;

/** A request refused with an HTTP status and a message, optionally naming the field to blame. */
final class ApiError extends RuntimeException {
  final int status;
  final String field;

  ApiError(int status, String message, String field) {
    super(message, null, false, false);   // no stack trace: it never reaches a client anyway
    this.status = status;
    this.field = field;
  }

  static ApiError notFound(String id) {
    return new ApiError(404, "no run with id \"" + id + "\"", "id");
  }
}
