# Sourced by ./dlsql and .ci/run: selects JDK 25 and reads the JVM flags from the parent pom,
# the one place they are defined.
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"25'; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25*; do
    if [ -x "$candidate/bin/java" ]; then JAVA_HOME="$candidate"; break; fi
  done
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ]; then
  echo "dlsql: JDK 25 not found; set JAVA_HOME to a JDK 25 installation" >&2
  exit 1
fi
export JAVA_HOME
DLSQL_JVM_FLAGS=$(sed -n 's:.*<dlsql.jvm.flags>\(.*\)</dlsql.jvm.flags>.*:\1:p' "$DLSQL_HOME/pom.xml")
# Maven's own dependency injection touches sun.misc.Unsafe; JDK 25 warns about it on every build.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
