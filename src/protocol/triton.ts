/**
 * Triton Inference Server's HTTP generate extension as used by TensorRT-LLM's ensemble model:
 * POST /v2/models/{name}/generate and /generate_stream (SSE), inputs by name.
 */
export interface TritonGenerateRequest {
  text_input: string;
  max_tokens?: number;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  random_seed?: number;
  stop_words?: string[];
  end_id?: number;
  ignore_eos?: boolean;
  [parameter: string]: unknown;
}

/** One response (or one streamed event): the ensemble's output tensor `text_output`. */
export interface TritonGenerateResponse {
  model_name: string;
  model_version: string;
  text_output: string;
  /** Non-standard but common: cumulative output token count, sent by the project's simulator. */
  output_token_count?: number;
  prompt_token_count?: number;
  [output: string]: unknown;
}

/** Triton's own error body: {"error": "message"}. */
export interface TritonErrorBody {
  error: string;
}
