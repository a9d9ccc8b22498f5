# Sourced by the end-to-end bench scripts: builds the executor and sets CP to its classes, the
# catalog's and their dependencies, straight from the build, so a run sees exactly this working
# tree. Needs ROOT (the repository) and WORK (a scratch directory) set, and JAVA_HOME (bin/env.sh).
echo "building executor..." >&2
(cd "$ROOT" && ./mvnw -B -q -ntp -pl executor -am compile >"$WORK/build.log" 2>&1) || {
  cat "$WORK/build.log" >&2; exit 1; }
(cd "$ROOT" && ./mvnw -B -q -ntp -pl executor dependency:build-classpath \
  -Dmdep.outputFile="$WORK/cp" >>"$WORK/build.log" 2>&1) || { cat "$WORK/build.log" >&2; exit 1; }
CP="$ROOT/executor/target/classes:$ROOT/catalog/target/classes:$(cat "$WORK/cp")"
