-- Compression acceptance runs for the anchor convnet (issue 6), through SQL.
-- Run with:  ./dlsql --data /tmp/cmp-data -f bench/compress/convnet.sql
-- Trains the anchor recipe, then makes int8, bf16, 90% unstructured-pruned (fine-tuned 1 epoch)
-- and 50%-channel-pruned (fine-tuned 1 epoch) variants and evaluates each on the test set.
CREATE OR REPLACE TABLE fashion_train AS
  SELECT * FROM TABLE(read_idx('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
                               '/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz'));
CREATE OR REPLACE TABLE fashion_test AS
  SELECT * FROM TABLE(read_idx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz',
                               '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'));
CREATE OR REPLACE MODEL convnet (
  INPUT image TENSOR(1, 28, 28),
  CONV2D(32, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),
  CONV2D(64, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),
  FLATTEN, DENSE(1024), RELU, DROPOUT(0.4), DENSE(10)
) OUTPUT label CLASSES 10;
-- the anchor recipe
TRAIN MODEL convnet ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 5, batch_size = 128, optimizer = 'sgd', learning_rate = 0.05, momentum = 0.9, seed = 42);
EVALUATE MODEL convnet ON (SELECT image, label FROM fashion_test);

COMPRESS MODEL convnet INTO convnet_int8 USING QUANTIZE(int8)
  CALIBRATE ON (SELECT image FROM fashion_train LIMIT 512);
EVALUATE MODEL convnet_int8 ON (SELECT image, label FROM fashion_test);
COMPRESS MODEL convnet INTO convnet_bf16 USING QUANTIZE(bf16);
EVALUATE MODEL convnet_bf16 ON (SELECT image, label FROM fashion_test);

-- 90% of conv and dense weights removed (smallest |w| over all layers), one epoch of fine-tuning
-- with the mask kept; CSR kernels only where this machine measures them faster than dense.
COMPRESS MODEL convnet INTO convnet_p90 USING PRUNE(0.9, SCOPE 'global')
  FINETUNE ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 1, batch_size = 128, optimizer = 'sgd', learning_rate = 0.01, momentum = 0.9, seed = 42);
EVALUATE MODEL convnet_p90 ON (SELECT image, label FROM fashion_test);

-- half of every layer's filters and units removed (smallest L1 norm), one epoch of fine-tuning.
COMPRESS MODEL convnet INTO convnet_c50 USING PRUNE_CHANNELS(0.5)
  FINETUNE ON (SELECT image, label FROM fashion_train)
  WITH (epochs = 1, batch_size = 128, optimizer = 'sgd', learning_rate = 0.01, momentum = 0.9, seed = 42);
EVALUATE MODEL convnet_c50 ON (SELECT image, label FROM fashion_test);
DESCRIBE MODEL convnet_c50;

SELECT name, kind, parent, parameters, accuracy, size_bytes, latency_ms, throughput, properties
FROM sys.models ORDER BY size_bytes DESC;
SELECT name, kind, accuracy, size_bytes FROM TABLE(pareto('accuracy', 'size_bytes', lineage => 'convnet'));
