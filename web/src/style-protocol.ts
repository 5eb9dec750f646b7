// The messages between the style page and its Web Worker: the page sends the two images as
// RGBA pixels and the settings; the worker answers with progress after each iteration.
import type { ImageDataLike } from '../../lib/core/index.js';

/** Page → worker: start a transfer. */
export interface StyleRequest {
  content: ImageDataLike;
  style: ImageDataLike;
  iterations: number;
  seed: number;
}

/** Worker → page: the feature net is built and the targets computed; iterations start. */
export interface StyleStarted {
  kind: 'started';
  description: string;
}

/** Worker → page: one more iteration done, with the image as it is now. */
export interface StyleProgress {
  kind: 'progress';
  iteration: number;
  iterations: number;
  loss: number;
  image: ImageDataLike;
}

/** Worker → page: finished (or failed, with a message). */
export interface StyleDone {
  kind: 'done';
  error?: string;
  seconds: number;
}

/** Any message from the worker. */
export type StyleMessage = StyleStarted | StyleProgress | StyleDone;
