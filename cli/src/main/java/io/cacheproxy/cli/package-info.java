/**
 * The {@code cacheproxy} command line (picocli): {@code run}, {@code check-config}, {@code demo},
 * {@code bench} (in {@link io.cacheproxy.cli.bench}), {@code hotkeys}. The
 * only place, with the config loader, that reads files, environment variables and system
 * properties; it also chooses the logging backend (Logback).
 */
package io.cacheproxy.cli;
