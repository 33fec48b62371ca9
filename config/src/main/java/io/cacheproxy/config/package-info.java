/**
 * The proxy's configuration: one YAML file mapped onto immutable, self-validating records.
 *
 * <p>{@link io.cacheproxy.config.ConfigLoader} reads the file (expanding {@code ${VAR}} from the
 * environment), maps it by hand onto {@link io.cacheproxy.config.ProxyConfig} and its section
 * records, and reports <em>every</em> problem at once as a {@link io.cacheproxy.config.ConfigError}
 * naming the key path, the value and why it is wrong; {@link io.cacheproxy.config.ConfigPrinter}
 * writes the effective configuration back as YAML with secrets masked. The records validate in
 * their compact constructors, so a configuration built in code obeys the same rules as one read
 * from a file, and every rule lives in exactly one place. This package reads files and environment
 * variables only in {@code ConfigLoader}; it depends on Jackson and nothing else in cacheproxy.
 */
package io.cacheproxy.config;
