package io.cacheproxy.cli.bench;

/** A run that could not be completed (cannot connect, the server closed, a probe failed): exit code 1. */
final class BenchFailure extends Exception {

    private static final long serialVersionUID = 1L;

    BenchFailure(String message) {
        super(message);
    }
}
