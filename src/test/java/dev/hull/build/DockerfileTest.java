package dev.hull.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Dockerfile parser, the word rules and .dockerignore, against the Dockerfile reference's examples. */
class DockerfileTest {

    @Test
    void continuationsCommentsAndLineNumbers() throws Exception {
        Dockerfile df = Dockerfile.parse("Dockerfile", """
                # a comment
                FROM busybox AS base

                RUN echo a \\
                # dropped inside a continuation
                  && echo b \\

                  && echo c
                copy --chown=1:2 --chmod=644 a b /dst/
                CMD ["sh", "-c", "echo hi"]
                ENTRYPOINT echo plain
                """);
        List<Dockerfile.Instruction> in = df.instructions();
        assertThat(in).extracting(Dockerfile.Instruction::keyword)
                .containsExactly("FROM", "RUN", "COPY", "CMD", "ENTRYPOINT");
        assertThat(in).extracting(Dockerfile.Instruction::line).containsExactly(2, 4, 9, 10, 11);
        assertThat(in.get(1).args()).isEqualTo("echo a   && echo b   && echo c");
        assertThat(in.get(1).json()).isNull();
        assertThat(in.get(2).flags()).containsEntry("chown", "1:2").containsEntry("chmod", "644");
        assertThat(in.get(2).args()).isEqualTo("a b /dst/");
        assertThat(in.get(3).json()).containsExactly("sh", "-c", "echo hi");
        assertThat(in.get(4).json()).isNull();
    }

    @Test
    void theEscapeDirectiveMakesTheBacktickTheEscape() throws Exception {
        Dockerfile df = Dockerfile.parse("Dockerfile", """
                # escape=`
                FROM busybox
                RUN dir c:\\ `
                    && echo done
                """);
        assertThat(df.escape()).isEqualTo('`');
        assertThat(df.instructions().get(1).args()).isEqualTo("dir c:\\     && echo done");
        // after the first instruction a directive is only a comment
        Dockerfile late = Dockerfile.parse("Dockerfile", "FROM busybox\n# escape=`\nRUN a \\\n b\n");
        assertThat(late.escape()).isEqualTo('\\');
        assertThat(late.instructions().get(1).args()).isEqualTo("a  b");
    }

    /** The syntax directive is a directive (the escape after it counts); an unknown one is a comment that ends them. */
    @Test
    void theSyntaxDirectiveIsKnownAndAnUnknownOneEndsTheDirectives() throws Exception {
        Dockerfile df = Dockerfile.parse("Dockerfile", "# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN a `\n b\n");
        assertThat(df.escape()).isEqualTo('`');
        assertThat(df.instructions().get(1).args()).isEqualTo("a  b");
        Dockerfile unknown = Dockerfile.parse("Dockerfile", "# nosuch=1\n# escape=`\nFROM busybox\nRUN a \\\n b\n");
        assertThat(unknown.escape()).isEqualTo('\\');
        assertThat(unknown.instructions().get(1).args()).isEqualTo("a  b");
        assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", "# syntax=a\n# SYNTAX=b\nFROM busybox\n"))
                .hasMessage("Dockerfile:2: parser directive syntax given twice");
    }

    @Test
    void errorsNameTheFileAndLine() {
        assertThatThrownBy(() -> Dockerfile.parse("build/Dockerfile", "FROM busybox\n\nRUNN echo\n"))
                .hasMessage("build/Dockerfile:3: unknown instruction: RUNN");
        assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", "FROM busybox\nCOPY --frm=x a b\n"))
                .hasMessageStartingWith("Dockerfile:2: COPY has no flag --frm");
        assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", "FROM busybox\nSHELL sh -c\n"))
                .hasMessageStartingWith("Dockerfile:2: SHELL takes a JSON array");
        assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", "FROM busybox\nRUN <<EOF\necho\nEOFF\n"))
                .hasMessage("Dockerfile:2: the heredoc EOF has no end (a line EOF)");
        assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", "FROM busybox\nEXPOSE\n"))
                .hasMessage("Dockerfile:2: EXPOSE needs arguments");
        assertThatThrownBy(() -> Dockerfile.parse("Dockerfile", "# escape=x\nFROM busybox\n"))
                .hasMessageStartingWith("Dockerfile:1: invalid escape directive");
    }

    @Test
    void heredocsTakeTheLinesUpToTheirNames() throws Exception {
        Dockerfile df = Dockerfile.parse("Dockerfile", """
                FROM busybox
                RUN <<EOF
                echo one
                # not a comment here
                EOF
                RUN --mount=type=cache,target=/a --mount=type=secret,id=s cat <<A 2<<-'B' > /x && echo "<<NOT"
                a $X
                A
                \tb
                \tB
                COPY <<"C" /c
                c body
                C
                RUN echo <<<here ["json"] 'q <<Q'
                CMD ["sh", "-c", "cat <<EOF"]
                """);
        List<Dockerfile.Instruction> in = df.instructions();
        assertThat(in).extracting(Dockerfile.Instruction::line).containsExactly(1, 2, 6, 11, 14, 15);
        assertThat(in.get(1).heredocs()).containsExactly(new Heredoc("EOF", "echo one\n# not a comment here\n", true, false));
        assertThat(in.get(2).mounts()).containsExactly("type=cache,target=/a", "type=secret,id=s");
        assertThat(in.get(2).heredocs()).containsExactly(new Heredoc("A", "a $X\n", true, false),
                new Heredoc("B", "\tb\n", false, true));
        assertThat(in.get(2).heredocs().get(1).data()).isEqualTo("b\n");
        assertThat(in.get(3).heredocs()).containsExactly(new Heredoc("C", "c body\n", false, false));
        assertThat(in.get(4).heredocs()).isEmpty();
        assertThat(in.get(5).heredocs()).isEmpty();
        assertThat(new Words('\\').replaceVariables("'$A' \"${B:-b}\" \\$A", Map.of("A", "1")))
                .isEqualTo("'1' \"b\" $A");
    }

    @Test
    void wordsQuotesAndReplacement() {
        Words w = new Words('\\');
        Map<String, String> env = Map.of("A", "x y", "EMPTY", "");
        assertThat(w.words("a 'b c' \"d $A\" e\\ f $A", env)).containsExactly("a", "b c", "d x y", "e f", "x y");
        assertThat(w.word("${A}-${NOPE:-dflt}-${EMPTY:-e}-${EMPTY-set}-${A:+alt}-${NOPE:+alt}", env))
                .isEqualTo("x y-dflt-e--alt-");
        assertThat(w.word("'$A' \\$A $", env)).isEqualTo("$A $A $");
        assertThatThrownBy(() -> w.words("'open", env)).hasMessageContaining("unterminated single quote");
    }

    @Test
    void dockerignorePatternsExceptionsAndParents() {
        DockerIgnore d = DockerIgnore.parse("""
                # comment
                *.log
                /build
                **/tmp
                node_modules
                !node_modules/keep.txt
                docs/*.md
                !docs/README.md
                """);
        assertThat(d.ignored("a.log")).isTrue();
        assertThat(d.ignored("sub/a.log")).isFalse(); // * does not cross directories
        assertThat(d.ignored("build/out/x")).isTrue(); // a matched directory takes what is below
        assertThat(d.ignored("a/b/tmp/c")).isTrue();
        assertThat(d.ignored("tmp")).isTrue();
        assertThat(d.ignored("node_modules/x/y")).isTrue();
        assertThat(d.ignored("node_modules/keep.txt")).isFalse();
        assertThat(d.ignored("docs/a.md")).isTrue();
        assertThat(d.ignored("docs/README.md")).isFalse();
        assertThat(d.ignored("src/main.c")).isFalse();
        assertThat(d.hasExceptions()).isTrue();
    }

    @Test
    void goDurations() throws Exception {
        Dockerfile.Instruction in = Dockerfile.parse("Dockerfile", "FROM a\nHEALTHCHECK CMD true\n").instructions().get(1);
        assertThat(Healthcheck.duration(in, "interval", "1m30s")).isEqualTo(90_000_000_000L);
        assertThat(Healthcheck.duration(in, "interval", "500ms")).isEqualTo(500_000_000L);
        assertThatThrownBy(() -> Healthcheck.duration(in, "interval", "5 s")).hasMessageStartingWith("Dockerfile:2: HEALTHCHECK --interval=5 s");
    }
}
