package io.cacheproxy.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A differential script: commands read from a resource file in {@code redis-cli} syntax (see
 * {@code src/test/resources/differential/README.md}).
 */
public record CommandScript(String name, List<Step> steps) {

    /**
     * One line of a script: a command, sent as a RESP array, or {@code !raw N "bytes"}, sent as
     * written; either way {@code replies} replies are read.
     */
    public record Step(int line, String source, byte[] bytes, int replies) {
    }

    /** Loads {@code differential/<name>} from the test class path. */
    public static CommandScript load(String name) {
        String resource = "/differential/" + name;
        try (InputStream in = CommandScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no script " + resource + " on the test class path");
            }
            return parse(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CommandScript parse(String name, String text) {
        List<Step> steps = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                if (line.startsWith("!raw ")) {
                    List<byte[]> args = split(line.substring(5));
                    if (args.size() != 2) {
                        throw new IllegalArgumentException("expected: !raw N \"bytes\"");
                    }
                    int replies = Integer.parseInt(new String(args.get(0), StandardCharsets.US_ASCII));
                    steps.add(new Step(i + 1, line, args.get(1), replies));
                } else {
                    steps.add(new Step(i + 1, line, RawRedisClient.encode(split(line).toArray(byte[][]::new)), 1));
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(name + ":" + (i + 1) + ": cannot parse '" + line + "': " + e.getMessage(), e);
            }
        }
        return new CommandScript(name, List.copyOf(steps));
    }

    /** Splits a line into arguments the way {@code redis-cli} does ({@code sdssplitargs}), plus {@code @@N}. */
    static List<byte[]> split(String line) {
        List<byte[]> args = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (true) {
            while (i < n && Character.isWhitespace(line.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return args;
            }
            ByteArrayOutputStream arg = new ByteArrayOutputStream();
            char c = line.charAt(i);
            if (c == '"') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new IllegalArgumentException("unbalanced double quotes");
                    }
                    char ch = line.charAt(i);
                    if (ch == '\\' && i + 1 < n) {
                        char e = line.charAt(i + 1);
                        if (e == 'x' && i + 3 < n) {
                            arg.write(Integer.parseInt(line.substring(i + 2, i + 4), 16));
                            i += 4;
                            continue;
                        }
                        arg.write(switch (e) {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> 7;
                            default -> e;
                        });
                        i += 2;
                    } else if (ch == '"') {
                        i++;
                        break;
                    } else {
                        arg.writeBytes(String.valueOf(ch).getBytes(StandardCharsets.UTF_8));
                        i++;
                    }
                }
            } else if (c == '\'') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new IllegalArgumentException("unbalanced single quotes");
                    }
                    char ch = line.charAt(i);
                    if (ch == '\\' && i + 1 < n && line.charAt(i + 1) == '\'') {
                        arg.write('\'');
                        i += 2;
                    } else if (ch == '\'') {
                        i++;
                        break;
                    } else {
                        arg.writeBytes(String.valueOf(ch).getBytes(StandardCharsets.UTF_8));
                        i++;
                    }
                }
            } else {
                int start = i;
                while (i < n && !Character.isWhitespace(line.charAt(i))) {
                    i++;
                }
                String word = line.substring(start, i);
                if (word.startsWith("@@") && word.length() > 2 && word.substring(2).chars().allMatch(Character::isDigit)) {
                    arg.writeBytes(blob(Integer.parseInt(word.substring(2))));
                } else {
                    arg.writeBytes(word.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (i < n && !Character.isWhitespace(line.charAt(i))) {
                throw new IllegalArgumentException("closing quote must be followed by a space");
            }
            args.add(arg.toByteArray());
        }
    }

    /** {@code length} bytes of binary data (every byte value, CR and LF included), the same for the same length. */
    public static byte[] blob(int length) {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }
}
