import * as tf from '@tensorflow/tfjs';

export const view = tf.version.tfjs;
