-- Compression acceptance runs for ResNet-20 (issue 6), through SQL, on a catalog holding
-- fashion_train, fashion_test and a trained resnet20 (bench/compress/resnet20-train.sql makes a
-- 2-epoch one; the README's numbers are from a copy of the 15-epoch catalog /tmp/r20run/data).
-- Run with:  ./dlsql --data DIR -f bench/compress/resnet20.sql   (on a copy: it adds models)
EVALUATE MODEL resnet20 ON (SELECT image, label FROM fashion_test);

COMPRESS MODEL resnet20 INTO resnet20_int8 USING QUANTIZE(int8)
  CALIBRATE ON (SELECT image FROM fashion_train LIMIT 512);
EVALUATE MODEL resnet20_int8 ON (SELECT image, label FROM fashion_test);
COMPRESS MODEL resnet20 INTO resnet20_bf16 USING QUANTIZE(bf16);
EVALUATE MODEL resnet20_bf16 ON (SELECT image, label FROM fashion_test);

-- The student: a small CNN with about a fifth of ResNet-20's parameters.
CREATE OR REPLACE MODEL small_cnn (
  INPUT image TENSOR(1, 28, 28),
  CONV2D(16, KERNEL 3, PADDING 'same'), RELU, MAXPOOL(2),
  CONV2D(32, KERNEL 3, PADDING 'same'), RELU, MAXPOOL(2),
  FLATTEN, DENSE(32), RELU, DENSE(10)
) OUTPUT label CLASSES 10;
-- with the teacher (soft targets at temperature 4, weight 0.5 and 0.9) and without it (ALPHA 0):
-- same epochs, optimizer and seed.
COMPRESS MODEL resnet20 INTO student_kd05 USING DISTILL(STUDENT small_cnn, TEMPERATURE 4, ALPHA 0.5)
  ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 3, batch_size = 128, optimizer = 'sgd', learning_rate = 0.05, momentum = 0.9, seed = 42);
EVALUATE MODEL student_kd05 ON (SELECT image, label FROM fashion_test);
COMPRESS MODEL resnet20 INTO student_kd USING DISTILL(STUDENT small_cnn, TEMPERATURE 4, ALPHA 0.9)
  ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 3, batch_size = 128, optimizer = 'sgd', learning_rate = 0.05, momentum = 0.9, seed = 42);
EVALUATE MODEL student_kd ON (SELECT image, label FROM fashion_test);
COMPRESS MODEL resnet20 INTO student_alone USING DISTILL(STUDENT small_cnn, ALPHA 0)
  ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 3, batch_size = 128, optimizer = 'sgd', learning_rate = 0.05, momentum = 0.9, seed = 42);
EVALUATE MODEL student_alone ON (SELECT image, label FROM fashion_test);

-- ALPHA 0.9 diverges at learning rate 0.05 (the soft term's gradient is ALPHA * T = 3.6x the
-- hard term's scale); at a quarter of the rate, with and without the teacher:
COMPRESS MODEL resnet20 INTO student_kd_slow USING DISTILL(STUDENT small_cnn, TEMPERATURE 4, ALPHA 0.9)
  ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 3, batch_size = 128, optimizer = 'sgd', learning_rate = 0.0125, momentum = 0.9, seed = 42);
EVALUATE MODEL student_kd_slow ON (SELECT image, label FROM fashion_test);
COMPRESS MODEL resnet20 INTO student_alone_slow USING DISTILL(STUDENT small_cnn, ALPHA 0)
  ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 3, batch_size = 128, optimizer = 'sgd', learning_rate = 0.0125, momentum = 0.9, seed = 42);
EVALUATE MODEL student_alone_slow ON (SELECT image, label FROM fashion_test);

SELECT name, kind, parent, parameters, accuracy, size_bytes, latency_ms, throughput, properties
FROM sys.models WHERE name LIKE 'resnet20%' OR name LIKE 'student%' ORDER BY size_bytes DESC;
SELECT name, kind, accuracy, size_bytes FROM TABLE(pareto('accuracy', 'size_bytes', lineage => 'resnet20'));
