package io.cacheproxy.cli;

import picocli.CommandLine;

/** {@code --version}: the jar's implementation version, plus the JVM it runs on. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Main.class.getPackage().getImplementationVersion();
        return new String[] {
            "cacheproxy " + (version == null ? "development build" : version),
            "JVM: " + System.getProperty("java.vm.name") + " " + Runtime.version()
        };
    }
}
