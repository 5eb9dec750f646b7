// The digit reader of the CNN page: a LeNet-5-style network built from chapter 4's layers
// (Conv2d, MaxPool2d, Flatten) and chapter 3's (Linear, ReLU), in float32. The page and the
// training script (web/scripts/train-digits.ts) both build it here, so the parameter names of
// the shipped file always match.
import type { Rng } from '../../lib/core/index.js';
import { Conv2d, Flatten, MaxPool2d } from '../../lib/cnn/index.js';
import { Linear, ReLU, Sequential } from '../../lib/mlp/index.js';

/**
 * x [N, 1, 28, 28] → conv1 5×5 (pad 2) → 6@28×28 → ReLU → max-pool 2 → 6@14×14
 * → conv2 5×5 → 16@10×10 → ReLU → max-pool 2 → 16@5×5 → flatten 400
 * → fc1 120 → ReLU → fc2 84 → ReLU → fc3 10 class scores (61,706 parameters).
 * @param rng seeds the initial weights (any seed will do when trained weights are loaded next)
 */
export function digitNet(rng: Rng): Sequential {
  const dtype = 'float32';
  return new Sequential(
    [
      new Conv2d(1, 6, 5, { name: 'conv1', pad: 2, rng, dtype }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(6, 16, 5, { name: 'conv2', rng, dtype }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(400, 120, { rng, name: 'fc1', dtype }),
      new ReLU(),
      new Linear(120, 84, { rng, name: 'fc2', dtype }),
      new ReLU(),
      new Linear(84, 10, { rng, name: 'fc3', dtype }),
    ],
    { name: 'digits' },
  );
}
