-- dlsql quickstart: Fashion-MNIST (Debian package dataset-fashion-mnist) end to end.
-- Run it with:  ./dlsql -f examples/quickstart.sql

-- 1. Load the data into catalog tables (Arrow IPC files under ./dlsql-data).
CREATE OR REPLACE TABLE fashion_train AS
  SELECT * FROM TABLE(read_idx('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
                               '/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz'));
CREATE OR REPLACE TABLE fashion_test AS
  SELECT * FROM TABLE(read_idx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz',
                               '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'));
SELECT label, COUNT(*) AS images FROM fashion_train GROUP BY label ORDER BY label;

-- 2. The benchmark convnet of the data set's package.
CREATE OR REPLACE MODEL convnet (
  INPUT image TENSOR(1, 28, 28),
  CONV2D(32, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),
  CONV2D(64, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),
  FLATTEN, DENSE(1024), RELU, DROPOUT(0.4), DENSE(10)
) OUTPUT label CLASSES 10;
DESCRIBE MODEL convnet;

-- 3. Train: one row per epoch (loss, accuracy, seconds, images/s, peak memory).
TRAIN MODEL convnet ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 2, batch_size = 128, optimizer = 'sgd', learning_rate = 0.05, momentum = 0.9,
        validation = 0.1, seed = 42);

-- 4. Evaluate on the test set: overall accuracy and loss, then per-class precision/recall.
EVALUATE MODEL convnet ON (SELECT image, label FROM fashion_test);

-- 5. PREDICT is a table expression: join the predictions with the labels, group by class.
SELECT t.label,
       COUNT(*) AS images,
       ROUND(AVG(CASE WHEN p.predicted_label = t.label THEN 1.0 ELSE 0.0 END), 4) AS accuracy
FROM PREDICT(MODEL convnet, (SELECT id, image FROM fashion_test)) AS p
JOIN fashion_test AS t ON p.id = t.id
GROUP BY t.label
ORDER BY t.label;

-- The same accuracy as EVALUATE's first row, computed from PREDICT joined with the labels.
SELECT ROUND(AVG(CASE WHEN p.predicted_label = t.label THEN 1.0 ELSE 0.0 END), 4) AS test_accuracy
FROM PREDICT(MODEL convnet, TABLE fashion_test) AS p
JOIN fashion_test AS t ON p.id = t.id;

-- 6. Compress: int8 (static quantization, activation ranges calibrated on 500 training images)
--    and bf16 weights. Each variant is a new catalog model recording its parent, the statement
--    that made it, its size on disk and its measured latency (batch 1) and throughput (batch 256).
DROP MODEL IF EXISTS convnet_int8;
DROP MODEL IF EXISTS convnet_bf16;
COMPRESS MODEL convnet INTO convnet_int8 USING QUANTIZE(int8)
  CALIBRATE ON (SELECT image FROM fashion_train LIMIT 500);
COMPRESS MODEL convnet INTO convnet_bf16 USING QUANTIZE(bf16);
EVALUATE MODEL convnet_int8 ON (SELECT image, label FROM fashion_test);
EVALUATE MODEL convnet_bf16 ON (SELECT image, label FROM fashion_test);

-- 7. The trade-off is a query: each variant's accuracy, size and speed, then the variants of
--    convnet that no other variant beats on both accuracy and size (the Pareto frontier).
SELECT name, kind, parent, parameters, accuracy, size_bytes, latency_ms, throughput
FROM sys.models WHERE name LIKE 'convnet%' ORDER BY size_bytes DESC;
SELECT name, kind, accuracy, size_bytes
FROM TABLE(pareto('accuracy', 'size_bytes', lineage => 'convnet'));

SELECT name, status, parameters, epochs_trained, accuracy FROM sys.models;
SELECT model, epoch, train_loss, val_accuracy, images_per_sec FROM sys.training_log;
