# ruff: noqa: W291, W293, E501
"""Judge prompt texts of Vero's lmms-eval fork, reproduced verbatim (they are what the paper's judge saw).

Source: github.com/zlab-princeton/vero, commit 995e475b65fde5331ce2ecba1d6805b733734eab, directory
``vero-eval/lmms_eval/tasks/`` (paths given per constant). Only the template texts are taken; the code that fills and
parses them is ours (``judged.py``). Placeholders keep the fork's spelling (``[QUESTION]``, ``{question}``, ``<|question|>``)
and are filled by plain string replacement, as the fork does.
"""

from __future__ import annotations

# chartmuseum/prompts/compare_answer_prompt.txt  (placeholders [QUESTION] [ANSWER1]=reference [ANSWER2]=prediction)
CHARTMUSEUM = """You are provided with a question and two answers. Please determine if these answers are equivalent. Follow these guidelines:

1. Numerical Comparison:
   - For decimal numbers, consider them as equivalent if their relative difference is sufficiently small. 
   For example, the following pairs are equivalent:
    - 32.35 and 32.34
    - 90.05 and 90.00
    - 83.3% and 83.2%
    - 31 and 31%
   The following pairs are not equivalent:
   - 32.35 and 35.25
   - 90.05 and 91.05
   - 83.3% and 45.2%

   Note that if the question asks for years or dates, please do the exact match with no error tolerance.

2. Unit Handling:
   - If only one answer includes units (e.g. '$', '%', '-', etc.), ignore the units and compare only the numerical values
   For example, the following pairs are equivalent:
   - 305 million and 305 million square meters
   - 0.75 and 0.75%
   - 0.6 and 60%
   - $80 and 80
   The following pairs are not equivalent:
   - 305 million and 200 million square meters
   - 0.75 and 0.90%

3. Text Comparison:
   - Ignore differences in capitalization
   - Treat mathematical expressions in different but equivalent forms as the same (e.g., "2+3" = "5")

Question: [QUESTION]
Answer 1: [ANSWER1]
Answer 2: [ANSWER2]

Please respond with:
- "Yes" if the answers are equivalent
- "No" if the answers are different

Your output should be in json format with key "is_equivalent", and value either "Yes" or "No". Do not output any other text."""

# visual_probe/prompts/judge_prompt.txt  (placeholders [QUESTION] [REFERENCE] [PREDICTION])
VISUAL_PROBE = """You are given a visual search question, the reference answer, and a model answer.
Decide if the model answer correctly addresses the question. Treat capitalization,
punctuation, and articles as irrelevant. Accept close paraphrases and synonyms
(e.g., "red" vs "reddish", "car" vs "the car"). Mark answers incorrect if they
refer to the wrong object/attribute, are unrelated to the question, or miss
required specifics.

Question: [QUESTION]
Reference answer: [REFERENCE]
Model answer: [PREDICTION]

Respond with a JSON object only: {"is_equivalent": true/false}.
"""

# fvqa/prompts/system_prompt_text_only.txt (the file fvqa/utils.py loads; placeholders {question}
# {ground truth answer} {candidate answers} {model response}; candidates are a JSON list, ensure_ascii=False)
FVQA = """You are an AI assistant tasked with evaluating the correctness of model responses based on a question and ground truth answer. Your judgment should follow these principles:

1. Consider the question and ground truth answer holistically before evaluating the model\u2019s response. 
2. Your decision should be strictly Yes or No, based on whether the model\u2019s response is factually accurate and aligns with the ground truth answer. 
3. If the model response is a more specific form of the ground truth answer, it is correct. 
4. If the model response includes all key information but adds minor details, it is correct as long as the extra details are factually correct. 
5. If the model response contradicts, modifies, or omits critical parts of the answer, it is incorrect. 
6. For numerical values, ensure correctness even when presented in different units. 
7. For names, check for first and last name correctness. If the middle name is extra but correct, consider it correct. 
8. For yes/no questions, the response must exactly match "Yes" or "No" to be correct. 
9. Some questions reference an image you cannot see. Treat the Ground Truth Answer as authoritative for the core answer, but do not penalize additional visual details you cannot verify.
10. If there are multiple candidate answers, you can also evaluate the model\u2019s response against all of them. If the response aligns with at least one candidate according to the rules above, it should be considered correct. 

Your output should be in JSON format with key "is_equivalent", and value either "Yes" or "No". Do not output any other text.

Here are your inputs:

Question: {question} 
Ground Truth Answer: {ground truth answer} 
Candidate Answers: {candidate answers} 
Model Response: {model response} 

Evaluate whether the Model Response is correct based on the Question, Ground Truth Answer and Candidate Answers. Follow the predefined judgment rules and provide a clear Yes/No answer in JSON format. """

# simplevqa/prompts/simplevqa_judge_prompt.txt  (placeholders {question} {answer} {candidates}; the fork fills
# {candidates} with "\n[预测答案0]：<prediction>")
SIMPLEVQA = """请根据给定问题、标准答案和模型预测的答案来评估模型的回答是否正确。您的任务是将结果评定为：【正确】、【错误】或【未尝试】。
首先，我们将列出每个评定类别的示例，然后请您对新问题的预测答案进行评定。
## 以下是【正确】的答复示例：
```
问题：图中人物（贝拉克·奥巴马）的孩子叫什么名字？
标准答案：玛丽亚·奥巴马和萨莎·奥巴马
模型预测1：Malia Obama and Sasha Obama
模型预测2：玛丽亚和萨沙
模型预测3：大多数人会说是玛丽亚和萨莎，但我不确定，需要再确认
模型预测4：巴拉克·奥巴马有两个女儿，她们分别是玛丽亚·安和娜塔莎·玛丽安，但通常称作玛丽亚·奥巴马和萨莎·奥巴马。玛丽亚出生于1998年7月4日，萨莎出生于2001年6月10日。
```
这些答复均为【正确】，因为：
- 完整地包含了标准答案中的重要信息。
- 不包含任何与标准答案矛盾的信息。
- 只关注语义内容，中英文，大小写、标点、语法和顺序不重要。
- 答复中出现模糊语句或猜测是可以接受的，前提是包含了标准答案且不含有不正确信息或矛盾。

## 以下是【错误】的答复示例：
```
问题：图中人物（贝拉克·奥巴马）的孩子叫什么名字？
标准答案：玛丽亚·奥巴马和萨莎·奥巴马
模型预测1：玛丽亚
模型预测2：玛丽亚、萨莎和苏珊
模型预测3：巴拉克·奥巴马没有孩子
模型预测4：我认为是玛丽亚和萨莎。或者是玛丽亚和杰基。或者是乔伊和玛丽亚。
模型预测5：虽然我不知道他们的确切名字，但能说出巴拉克·奥巴马有三个孩子。
模型预测6：你可能是想说贝茜和奥利维亚。不过您应通过最新的参考资料确认详细信息。那是正确的答案吗？
```
这些答复均为【错误】，因为：
- 答复中包含与标准答案矛盾的事实陈述。即使在陈述中略带保留（例如：“可能是”，“虽然我不确定，但我认为”），也视为错误。

## 以下是【未尝试】的答复示例：
```
问题：图中人物（贝拉克·奥巴马）的孩子叫什么名字？
标准答案：玛丽亚·奥巴马和萨莎·奥巴马
模型预测1：我不知道。
模型预测2：我需要更多关于您所指奥巴马的上下文。
模型预测3：不查阅网络我无法回答这个问题，不过我知道巴拉克·奥巴马有两个孩子。
模型预测4：巴拉克·奥巴马有两个孩子。我知道其中一个叫玛丽亚，但我不确定另一个的名字。
模型预测5：我无法识别图中的人物。
模型预测6：N/A。
```
这些答复均为【未尝试】，因为：
- 没有包含标准答案中的重要信息。
- 回复中没有与标准答案矛盾的陈述。
只返回字母”A”、”B”或”C”，无须添加其他文本。

另外注意以下几点：
- 对于标准答案为数字的问题，预测答案应和标准答案一致。例如，考虑问题“金山铁路黄浦江特大桥的全长是多少米？”，标准答案为“3518.17”：
- 预测答案“3518”、“3518.1”、“3518.17”均为【正确】。
- 预测答案“3520”和“3600”均为【错误】。
- 预测答案“大约3500米”和“超过3000米”被视为【未尝试】，因为它们既不确认也不与标准答案矛盾。
- 如果标准答案包含比问题更多的信息，预测答案只需包含问题中提到的信息。
- 例如，考虑问题“菱镁矿的主要化学成分是什么？”,标准答案为“碳酸镁（MgCO3）”。“碳酸镁”或“MgCO3”均视为【正确】答案。
- 如果从问题中明显可以推断出预测答案省略的信息，那么算作【正确】。
- 例如，问题“巴鲁米尼的努拉吉遗迹在1997年被联合国教科文组织列为世界文化遗产，那么这遗址在哪个地区？”标准答案为“意大利撒丁岛”，预测答案“撒丁岛”被视为【正确】。
- 如果能明显看出名字翻译版本不同但是是同一个人也认为【正确】。
- 例如，如果标准答案是“Robinson”，那么回答鲁滨逊或者鲁滨孙均【正确】。
- 预测答案和标准答案对应的是同一事物，但是称呼不同，如“天坛”和“祈年殿”，那么算作【正确】

## 下面是一个新的问题示例。对每一个预测答案，请只回复"正确"、"错误"、"未尝试"之一，不要道歉或纠正自己的错误，只需要评估该回答。
```
问题: {question}
正确答案: {answer}
预测答案: {candidates}
```

请严格按照以下格式回复，以JSON格式返回一个字典,而且字典第一层key不要替换为具体答案。不要返回其他任何内容。
[回复格式]:
```json
{
    "预测答案0": "整体结论，只返回'正确','错误','未尝试'中的一个，无须添加其他文本",
    "预测答案1": "整体结论，只返回'正确','错误','未尝试'中的一个，无须添加其他文本",
    ...
}
```
"""

# charxiv/constant.py REASONING_GRADING_PREFIX + REASONING_GRADING_INST[inst_category] (charxiv/reasoning_utils.py
# build_reasoning_grading_queries; placeholders <|question|> <|ground_truth|> <|response|>). The "\\n" after
# "scoring rules:" is a literal backslash-n in the fork's string, kept as such.
CHARXIV_PREFIX = """
You will be given a question, an ground truth answer and a model response. You need to extract the final answer from the model response, compare it with the ground truth answer, and then assign a binary score. Avoid providing explanations in your response. If there is no provided model response, please leave the extracted answer empty and give a score of 0. 

Your response must follow json formats with keys [extracted_answer, score] where the value of the score is an integer in [0, 1]. You must follow the scoring rules:\\n"""

_CHARXIV_NUMBER_RULES = """
    ### Rules ###
    * Give a score of 1 if and only if the two numbers are exactly equal in values. It's acceptable to have different notations (e.g., 0.01 and 10^-2; 1500 and 1.5e3).
    * Give a score of 0 if the two numbers are different in values.

    ### Example 1 Starts ###
    * Question: What is the value of the red curve at t=10?
    * Ground Truth: 0.01
    * Response: The value of the red curve at t=10 is 0.012.

    {
        "extracted_answer": "0.012",
        "score": 0
    }
    ### Example 1 Ends ###

    ### Example 2 Starts ###
    * Question: What is the value of the blue curve at t=50?
    * Ground Truth: 1500
    * Response: The value of the blue curve at t=50 is 1.5e3.

    {
        "extracted_answer": "1.5e3",
        "score": 1
    }
    ### Example 2 Ends ###

    ### Your Turn ###
    * Question: <|question|>
    * Ground Truth: <|ground_truth|>
    * Response: <|response|>

    """

CHARXIV_INST = {
    1: """
    ### Rules ###
    * Give a score of 1 if and only if the final answer and the ground truth answer are referring to the same term. It's acceptable to have different grammar or form (e.g., α and alpha; $R^2_{t,h,v,m}$ and R^2_t,h,v,m). It's also acceptable to have different orders of the terms when question asks for multiple terms.
    * Give a score of 0 if any term (e.g., ACC+ and ACC; P-101 and P=101) is different between the final answer and the ground truth.

    ### Example 1 Starts ###
    * Question: What is the name of the curve that intersects y=\\lambda exactly three times?
    * Ground Truth: P56962
    * Response: There is only one curve that intersects y=\\lambda exactly three times. The name of the curve is written as P55762.
    
    {
        "extracted_answer": "P55762",
        "score": 0
    }
    ### Example 1 Ends ###


    ### Example 2 Starts ###
    * Question: What is the letter of the subplot where all bars are above 35?
    * Ground Truth: (b)
    * Response: The letter of the subplot where all bars are above 35 is b.

    {
        "extracted_answer": "b",
        "score": 1
    }
    ### Example 2 Ends ###

    ### Your Turn ###
    * Question: <|question|>
    * Ground Truth: <|ground_truth|>
    * Response: <|response|>

    """,
    2: """
    ### Rules ###
    * If there are predefined options in the question:
        * Give a score of 1 if the final answer matches the ground truth answer exactly.
        * Give a score of 0 if the final answer does not match the ground truth answer.
    * If there are no predefined options in the question:
        * Give a score of 1 if the final answer shares the same semantic meaning with the ground truth answer (e.g., "increasing then decreasing" and "moving up then down"; "converge" and "move closer together").
        * Give a score of 0 if the final answer shares different semantic meanings from the ground truth answer (e.g., "increasing then decreasing" and "remain constant"; "converge" and "diverge").

    ### Example 1 Starts ###
    * Question: What is the trend of the red curve between t=10 and t=25?
    * Ground Truth: increasing then decreasing
    * Response: The red curve is increasing between t=10 and t=25.

    {
        "extracted_answer": "increasing",
        "score": 0
    }
    ### Example 1 Ends ###

    ### Example 2 Starts ###
    * Question: What is the interval where the blue curve achieves the maximum value among [0, 50], [50, 100], [100, 150], and [150, 200]?
    * Ground Truth: [50, 100]
    * Response: The interval where the blue curve achieves the maximum value is [50, 100].

    {
        "extracted_answer": "[50, 100]",
        "score": 1
    }
    ### Example 2 Ends ###

    ### Your Turn ###
    * Question: <|question|>
    * Ground Truth: <|ground_truth|>
    * Response: <|response|>

    """,
    3: _CHARXIV_NUMBER_RULES,
    4: _CHARXIV_NUMBER_RULES,
}

# mm_mt_bench/utils.py SYSTEM_PROMPT; with a text-only judge (Qwen3-32B) the fork sends SYSTEM_PROMPT.strip() + "\n"
# + the conversation text below as one user message (_prepend_system_prompt).
MT_BENCH_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant "
    "to the most recent question given the previous conversation as context. Your evaluation should consider "
    "correctness and helpfulness. You will be given a reference answer and the assistant's answer. Begin your "
    "evaluation by comparing the assistant's answer with the reference answer. Identify and correct any mistakes. "
    "Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 "
    "by strictly following this format: \"[[rating]]\", for example: \"Rating: [[5]]\".\n\n"
)
# mm_mt_bench/utils.py _build_judge_prompt / _replay_conversation: the pieces of the conversation text.
MT_BENCH_START = "<|The Start of Conversation with User|>\n\n"
MT_BENCH_USER = "### User:\n"
MT_BENCH_REFERENCE = "\n\n### Reference answer:\n{ref}\n\n"
MT_BENCH_ANSWER = "\n\n### Assistant's answer:\n{answer}\n\n"
MT_BENCH_END = "<|The End of Conversation with User|>\n\n\n"

# mmifeval/utils.py generate_eval_pt_c_level (text-only judge branch of requirement 2; {prediction} {constraints})
MMIF_C_LEVEL = """Your task is to evaluate whether the response from an AI assistant adheres to all of the given constraints. Please follow the requirements below to make the judgment:
1. Be strict and consistent in your assessment.
2. Judge only from the text response and constraints. Ignore image content.
3. For each constraint, if the response fails to fully meet the constraint, give it a score of 0. Otherwise, give it a score of 1.

<start of response>
{prediction}
<end of response>

<start of constraint list>
{constraints}
<end of constraint list>

You must evaluate and provide an explanation for each constraint listed, ensuring no constraint is omitted. At the end, summarize the scores for all constraints in one sentence.

Your output should strictly follow the format below:
Judgement: ...
Summary: Score of constraint_1: x/1, Score of constraint_2: x/1, Score of constraint_3: x/1, ..., Score of constraint_n: x/1.
"""

# mmifeval/utils.py generate_eval_pt_p_level ({question} {prediction} {ground_truth})
MMIF_P_LEVEL = """You are an expert evaluator. Your task is to extract the answer from the model output and compare it with the ground truth list to determine whether the model answer covers all the points in the ground truth list. The ground truth list is provided as a JSON array of strings, and the model answer is a text string. An answer is considered correct if every element from the ground truth list appears in the model answer (substring matching is acceptable). The order does not matter. 
Your response should only be 'right' if the model answer fully covers the ground truth, or 'wrong' if it does not. Do not provide any additional commentary.

Question: {question}
Response from the model: {prediction}
Ground Truth List: {ground_truth}
"""

# mmifeval/utils.py generate_cmp_pt ({constraint} {with_constraint} {without_constraint})
MMIF_CMP = """You are an expert in judging whether the respone follow the given constraint. Your task is to assess whether the model's response satisfies the given constraint and return True or False. I will provide you with the constraint and the model's response under this constraint. To assist with your evaluation, I will also provide you with the model's response to the same question without the constraint.

<start of constraint>
{constraint}
<end of constraint>

<start of response under the constraint>
{with_constraint}
<end of response under the constraint>

<start of response without the constraint>
{without_constraint}
<end of response without the constraint>

**Please follow the steps below to evaluate**:
Step 1. Compare the model's response under the constraint with its response without the constraint. If you believe these two answers are very similar, it means the model has not fully considered the impact of the constraint on the answer. Please return False.
Step 2. Compare the model's response under the constraint with the content of the constraint. If you believe the model's response does not meet the requirements specified in the constraint, return False. Otherwise, if the response effectively satisfies the constraint, return True.

Start by briefly explaining your reasoning based on the above steps. At the end, provide a one-sentence summary of your evaluation.

Your output must strictly follow this format:
Reasoning: ...
Summary: "True" / "False".
"""

# mmvetv2/prompts/judge_score_prompt.txt  ([QUESTION] [GROUND_TRUTH] [PREDICTION])
MMVET = """Compare the ground truth and prediction from AI models to give a correctness score.

Rules:
- `<AND>` in the ground truth means all listed elements must be present in the prediction for full credit.
- `<OR>` in the ground truth means any listed element is sufficient for full credit.
- Output score must be one of: 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0.

Examples:
gpt_query_prompt | Ground truth | Prediction | Correctness
--- | --- | --- | ---
What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme talks about Iceland and Greenland. It's pointing out that despite their names, Iceland is not very icy and Greenland isn't very green. | 0.4
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme is using humor to point out the misleading nature of Iceland's and Greenland's names. Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow. The text 'This is why I have trust issues' is a playful way to suggest that these contradictions can lead to distrust or confusion. The humor in this meme is derived from the unexpected contrast between the names of the countries and their actual physical characteristics. | 1.0

Evaluate this sample:
Question: [QUESTION]
Ground truth: [GROUND_TRUTH]
Prediction: [PREDICTION]

Return JSON only with a single key `score`, for example: {"score": 0.7}
Do not output any other text.
"""
