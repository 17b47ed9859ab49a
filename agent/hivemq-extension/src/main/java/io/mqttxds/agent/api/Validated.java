package io.mqttxds.agent.api;

/**
 * A parsed request part or the response that rejects it. Bad requests are expected, so
 * they are values, not exceptions.
 */
public final class Validated<T> {
    private final T value;
    private final ApiResponse rejection;

    private Validated(T value, ApiResponse rejection) {
        this.value = value;
        this.rejection = rejection;
    }

    public static <T> Validated<T> ok(T value) {
        return new Validated<>(value, null);
    }

    public static <T> Validated<T> rejected(ApiResponse response) {
        return new Validated<>(null, response);
    }

    public boolean isOk() {
        return rejection == null;
    }

    public T value() {
        if (rejection != null) throw new IllegalStateException("rejected request has no value");
        return value;
    }

    public ApiResponse rejection() {
        return rejection;
    }
}
