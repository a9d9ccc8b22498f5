package io.dlsql.catalog.storage;

import io.dlsql.catalog.TrainingLogRow;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The training log: an append-only file of self-checking records, one per epoch. Each record is
 * {@code length:int, payload, crc32c(payload):int}, forced to disk before {@code append} returns. A
 * crash mid-append leaves at most one torn record at the end; opening the file cuts it off so later
 * appends follow the last good record.
 */
public final class TrainingLogFile implements AutoCloseable {
  /** Name of the log file inside the data directory. */
  public static final String FILE_NAME = "training_log.bin";

  private static final byte[] MAGIC = "DLSQLLOG".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;
  private static final int HEADER_BYTES = 12;
  private static final int RECORD_OVERHEAD_BYTES = Integer.BYTES * 2;

  /** No real record comes near this; a larger length field is damage, not data. */
  private static final int MAX_RECORD_BYTES = 1 << 20;

  private final Path file;
  private final FileChannel channel;
  private final List<TrainingLogRow> rows;

  private TrainingLogFile(Path file, FileChannel channel, List<TrainingLogRow> rows) {
    this.file = file;
    this.channel = channel;
    this.rows = rows;
  }

  /** Opens (creating if needed) the log, reads every complete record and drops a torn tail. */
  public static TrainingLogFile open(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    boolean created = !Files.exists(file);
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      if (created || ch.size() < HEADER_BYTES) {
        // A new log, or one whose creation was cut short before the header reached the disk.
        ch.truncate(0);
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putInt(VERSION).flip();
        ch.write(header, 0);
        ch.force(true);
        AtomicFiles.fsyncDirectory(dataDir);
        return new TrainingLogFile(file, ch, new ArrayList<>());
      }
      byte[] bytes = new byte[Math.toIntExact(ch.size())];
      ByteBuffer all = ByteBuffer.wrap(bytes);
      while (all.hasRemaining() && ch.read(all, all.position()) >= 0) {}
      if (!Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
        throw Checksums.corrupt(file, "not a training log");
      }
      ByteBuffer buf = ByteBuffer.wrap(bytes).position(MAGIC.length);
      new Encoding.Decoder(file, buf).expectVersion(VERSION);
      List<TrainingLogRow> rows = new ArrayList<>();
      int good = HEADER_BYTES;
      while (buf.remaining() >= RECORD_OVERHEAD_BYTES) {
        int length = buf.getInt();
        if (length <= 0 || length > MAX_RECORD_BYTES || length + Integer.BYTES > buf.remaining()) {
          break;
        }
        int start = buf.position();
        int crc = buf.getInt(start + length);
        if (crc != Checksums.of(bytes, start, length)) {
          break;
        }
        rows.add(decode(new Encoding.Decoder(file, ByteBuffer.wrap(bytes, start, length).slice())));
        buf.position(start + length + Integer.BYTES);
        good = buf.position();
      }
      if (good < bytes.length) {
        if (hasValidRecordAfter(bytes, good)) {
          // Damage in the middle is not a torn append; cutting it off would lose real rows.
          throw Checksums.corrupt(file, "damaged record at byte " + good);
        }
        ch.truncate(good);
        ch.force(true);
      }
      return new TrainingLogFile(file, ch, rows);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Whether a well-formed record starts anywhere after {@code from}: a torn append is always the
   * last thing in the file, so finding one means the damage is elsewhere.
   */
  private static boolean hasValidRecordAfter(byte[] bytes, int from) {
    for (int p = from + 1; p + RECORD_OVERHEAD_BYTES <= bytes.length; p++) {
      int length = ByteBuffer.wrap(bytes, p, Integer.BYTES).getInt();
      int end = p + Integer.BYTES + length;
      if (length > 0 && length <= MAX_RECORD_BYTES && end + Integer.BYTES <= bytes.length) {
        int crc = ByteBuffer.wrap(bytes, end, Integer.BYTES).getInt();
        if (crc == Checksums.of(bytes, p + Integer.BYTES, length)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Appends one row durably. */
  public synchronized void append(TrainingLogRow row) throws IOException {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    encode(new DataOutputStream(payload), row);
    byte[] p = payload.toByteArray();
    ByteBuffer record = ByteBuffer.allocate(p.length + RECORD_OVERHEAD_BYTES);
    record.putInt(p.length).put(p).putInt(Checksums.of(p, 0, p.length)).flip();
    long at = channel.size();
    while (record.hasRemaining()) {
      at += channel.write(record, at);
    }
    channel.force(false);
    rows.add(row);
  }

  /** Every row, in append order. */
  public synchronized List<TrainingLogRow> rows() {
    return List.copyOf(rows);
  }

  /** The log file. */
  public Path file() {
    return file;
  }

  @Override
  public synchronized void close() throws IOException {
    channel.close();
  }

  private static void encode(DataOutputStream out, TrainingLogRow r) throws IOException {
    Encoding.writeString(out, r.model());
    Encoding.writeString(out, r.runId());
    out.writeInt(r.epoch());
    out.writeDouble(r.trainLoss());
    out.writeDouble(r.trainAccuracy());
    Encoding.writeNullableDouble(out, r.validationLoss());
    Encoding.writeNullableDouble(out, r.validationAccuracy());
    out.writeDouble(r.learningRate());
    out.writeDouble(r.seconds());
    out.writeDouble(r.imagesPerSecond());
    out.writeLong(r.peakMemoryBytes());
    Encoding.writeInstant(out, r.finished());
    out.flush();
  }

  private static TrainingLogRow decode(Encoding.Decoder in) {
    return new TrainingLogRow(
        in.readString(),
        in.readString(),
        in.readInt(),
        in.readDouble(),
        in.readDouble(),
        in.readNullableDouble(),
        in.readNullableDouble(),
        in.readDouble(),
        in.readDouble(),
        in.readDouble(),
        in.readLong(),
        in.readInstant());
  }
}
