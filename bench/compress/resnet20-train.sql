-- A short ResNet-20 for the compression runs when no longer-trained one is at hand: 2 epochs.
-- Run with:  ./dlsql --data DIR -f bench/compress/resnet20-train.sql
CREATE OR REPLACE TABLE fashion_train AS
  SELECT * FROM TABLE(read_idx('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
                               '/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz'));
CREATE OR REPLACE TABLE fashion_test AS
  SELECT * FROM TABLE(read_idx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz',
                               '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'));
CREATE OR REPLACE MODEL resnet20 AS RESNET(depth => 20) INPUT image TENSOR(1, 28, 28) OUTPUT label CLASSES 10;
TRAIN MODEL resnet20 ON fashion_train
  WITH (epochs = 2, batch_size = 128, learning_rate = 0.1, momentum = 0.9, nesterov = true,
        weight_decay = 0.0005, schedule = 'cosine', seed = 42);
DESCRIBE MODEL resnet20;
