package dev.hull.service.docker;

import dev.hull.runtime.RuntimeError;

/** An answer other than success: dockerd's status code and {"message": ...}. */
final class ApiError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    ApiError(int status, String message) {
        super(message);
        this.status = status;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }

    static ApiError notFound(String message) {
        return new ApiError(404, message);
    }

    static ApiError conflict(String message) {
        return new ApiError(409, message);
    }

    /** What Hull cannot do (yet): said plainly, never faked. */
    static ApiError notImplemented(String message) {
        return new ApiError(501, message);
    }

    /** The engine's error kinds as dockerd's status codes. */
    static ApiError of(RuntimeError e) {
        int status = switch (e.kind()) {
            case BAD_INPUT -> 400;
            case NOT_FOUND -> 404;
            case EXISTS, WRONG_STATE -> 409;
            case PERMISSION -> 403;
            case FAILED -> 500;
        };
        return new ApiError(status, e.getMessage());
    }
}
