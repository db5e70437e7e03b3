/* eslint-disable */
// Written by `npm run schemas:build` from hfConfig.schema.json and timmConfig.schema.json: edit
// those, not this. layouts.test.ts checks that this file is what they compile to.
// @ts-nocheck
"use strict";
export const validateHfConfig = validate10;
const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://github.com/vpt-vs-ft-lab/hf-config.schema.json","title":"transformers ViTConfig in a checkpoint's metadata","$comment":"The 'config' metadata of a Hugging Face ViTModel safetensors file, as far as the lab reads it (every other field is left alone). Without hidden_size it is not a transformers config, and the sizes are read off the tensor shapes; the ranges of the sizes are checked with the model (src/model/config.ts checkConfig).","type":"object","if":{"properties":{"hidden_size":true},"required":["hidden_size"]},"then":{"type":"object","required":["num_hidden_layers","num_attention_heads","intermediate_size"],"properties":{"hidden_size":{"type":"number","description":"a number (the token width)"},"num_hidden_layers":{"type":"number","description":"a number (the blocks)"},"num_attention_heads":{"type":"number","description":"a number (the attention heads)"},"intermediate_size":{"type":"number","description":"a number (the MLP width)"},"image_size":{"type":"number","description":"a number (the input resolution)"},"patch_size":{"type":"number","description":"a number (the patch side)"},"num_channels":{"type":"number","description":"a number (the input channels)"},"layer_norm_eps":{"type":"number","description":"a number (LayerNorm's epsilon)"}}}};

function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
/*# sourceURL="https://github.com/vpt-vs-ft-lab/hf-config.schema.json" */;
let vErrors = null;
let errors = 0;
if(!(data && typeof data == "object" && !Array.isArray(data))){
validate10.errors = [{instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"}];
return false;
}
const _errs2 = errors;
let valid0 = true;
const _errs3 = errors;
if(data && typeof data == "object" && !Array.isArray(data)){
let missing0;
if((data.hidden_size === undefined) && (missing0 = "hidden_size")){
const err0 = {};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
var _valid0 = _errs3 === errors;
errors = _errs2;
if(vErrors !== null){
if(_errs2){
vErrors.length = _errs2;
}
else {
vErrors = null;
}
}
if(_valid0){
const _errs4 = errors;
if(errors === _errs4){
if(data && typeof data == "object" && !Array.isArray(data)){
let missing1;
if((((data.num_hidden_layers === undefined) && (missing1 = "num_hidden_layers")) || ((data.num_attention_heads === undefined) && (missing1 = "num_attention_heads"))) || ((data.intermediate_size === undefined) && (missing1 = "intermediate_size"))){
validate10.errors = [{instancePath,schemaPath:"#/then/required",keyword:"required",params:{missingProperty: missing1},message:"must have required property '"+missing1+"'"}];
return false;
}
else {
if(data.hidden_size !== undefined){
let data0 = data.hidden_size;
const _errs6 = errors;
if(!((typeof data0 == "number") && (isFinite(data0)))){
validate10.errors = [{instancePath:instancePath+"/hidden_size",schemaPath:"#/then/properties/hidden_size/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs6 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.num_hidden_layers !== undefined){
let data1 = data.num_hidden_layers;
const _errs8 = errors;
if(!((typeof data1 == "number") && (isFinite(data1)))){
validate10.errors = [{instancePath:instancePath+"/num_hidden_layers",schemaPath:"#/then/properties/num_hidden_layers/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs8 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.num_attention_heads !== undefined){
let data2 = data.num_attention_heads;
const _errs10 = errors;
if(!((typeof data2 == "number") && (isFinite(data2)))){
validate10.errors = [{instancePath:instancePath+"/num_attention_heads",schemaPath:"#/then/properties/num_attention_heads/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs10 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.intermediate_size !== undefined){
let data3 = data.intermediate_size;
const _errs12 = errors;
if(!((typeof data3 == "number") && (isFinite(data3)))){
validate10.errors = [{instancePath:instancePath+"/intermediate_size",schemaPath:"#/then/properties/intermediate_size/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs12 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.image_size !== undefined){
let data4 = data.image_size;
const _errs14 = errors;
if(!((typeof data4 == "number") && (isFinite(data4)))){
validate10.errors = [{instancePath:instancePath+"/image_size",schemaPath:"#/then/properties/image_size/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs14 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.patch_size !== undefined){
let data5 = data.patch_size;
const _errs16 = errors;
if(!((typeof data5 == "number") && (isFinite(data5)))){
validate10.errors = [{instancePath:instancePath+"/patch_size",schemaPath:"#/then/properties/patch_size/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs16 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.num_channels !== undefined){
let data6 = data.num_channels;
const _errs18 = errors;
if(!((typeof data6 == "number") && (isFinite(data6)))){
validate10.errors = [{instancePath:instancePath+"/num_channels",schemaPath:"#/then/properties/num_channels/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs18 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.layer_norm_eps !== undefined){
let data7 = data.layer_norm_eps;
const _errs20 = errors;
if(!((typeof data7 == "number") && (isFinite(data7)))){
validate10.errors = [{instancePath:instancePath+"/layer_norm_eps",schemaPath:"#/then/properties/layer_norm_eps/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs20 === errors;
}
else {
var valid1 = true;
}
}
}
}
}
}
}
}
}
}
else {
validate10.errors = [{instancePath,schemaPath:"#/then/type",keyword:"type",params:{type: "object"},message:"must be object"}];
return false;
}
}
var _valid0 = _errs4 === errors;
valid0 = _valid0;
}
if(!valid0){
const err1 = {instancePath,schemaPath:"#/if",keyword:"if",params:{failingKeyword: "then"},message:"must match \"then\" schema"};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
validate10.errors = vErrors;
return false;
}
validate10.errors = vErrors;
return errors === 0;
}

export const validateTimmConfig = validate11;
const schema12 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://github.com/vpt-vs-ft-lab/timm-config.schema.json","title":"timm VisionTransformer config in a checkpoint's metadata","$comment":"The 'config' metadata of a timm-layout safetensors file (the lab writes it: src/weights/load.ts timmConfigJson). Without embed_dim it is not a timm config, and the sizes are read off the tensor shapes; the ranges of the sizes are checked with the model (src/model/config.ts checkConfig).","type":"object","if":{"properties":{"embed_dim":true},"required":["embed_dim"]},"then":{"type":"object","required":["depth","num_heads"],"properties":{"embed_dim":{"type":"number","description":"a number (the token width)"},"depth":{"type":"number","description":"a number (the blocks)"},"num_heads":{"type":"number","description":"a number (the attention heads)"},"img_size":{"description":"a number, or a list of numbers (height first)","oneOf":[{"type":"number"},{"type":"array","minItems":1,"items":{"type":"number"}}]},"patch_size":{"description":"a number, or a list of numbers (height first)","oneOf":[{"type":"number"},{"type":"array","minItems":1,"items":{"type":"number"}}]},"in_chans":{"type":"number","description":"a number (the input channels)"},"mlp_dim":{"type":"number","description":"a number (the MLP width)"},"mlp_ratio":{"type":"number","description":"a number (the MLP width over the token width)"},"num_classes":{"type":"number","description":"a number (the head's classes)"},"eps":{"type":"number","description":"a number (LayerNorm's epsilon)"},"mean":{"type":"array","minItems":3,"maxItems":3,"items":{"type":"number"},"description":"3 finite numbers (one per RGB channel)"},"std":{"type":"array","minItems":3,"maxItems":3,"items":{"type":"number"},"description":"3 finite numbers (one per RGB channel)"}}}};

function validate11(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
/*# sourceURL="https://github.com/vpt-vs-ft-lab/timm-config.schema.json" */;
let vErrors = null;
let errors = 0;
if(!(data && typeof data == "object" && !Array.isArray(data))){
validate11.errors = [{instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"}];
return false;
}
const _errs2 = errors;
let valid0 = true;
const _errs3 = errors;
if(data && typeof data == "object" && !Array.isArray(data)){
let missing0;
if((data.embed_dim === undefined) && (missing0 = "embed_dim")){
const err0 = {};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
var _valid0 = _errs3 === errors;
errors = _errs2;
if(vErrors !== null){
if(_errs2){
vErrors.length = _errs2;
}
else {
vErrors = null;
}
}
if(_valid0){
const _errs4 = errors;
if(errors === _errs4){
if(data && typeof data == "object" && !Array.isArray(data)){
let missing1;
if(((data.depth === undefined) && (missing1 = "depth")) || ((data.num_heads === undefined) && (missing1 = "num_heads"))){
validate11.errors = [{instancePath,schemaPath:"#/then/required",keyword:"required",params:{missingProperty: missing1},message:"must have required property '"+missing1+"'"}];
return false;
}
else {
if(data.embed_dim !== undefined){
let data0 = data.embed_dim;
const _errs6 = errors;
if(!((typeof data0 == "number") && (isFinite(data0)))){
validate11.errors = [{instancePath:instancePath+"/embed_dim",schemaPath:"#/then/properties/embed_dim/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs6 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.depth !== undefined){
let data1 = data.depth;
const _errs8 = errors;
if(!((typeof data1 == "number") && (isFinite(data1)))){
validate11.errors = [{instancePath:instancePath+"/depth",schemaPath:"#/then/properties/depth/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs8 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.num_heads !== undefined){
let data2 = data.num_heads;
const _errs10 = errors;
if(!((typeof data2 == "number") && (isFinite(data2)))){
validate11.errors = [{instancePath:instancePath+"/num_heads",schemaPath:"#/then/properties/num_heads/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs10 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.img_size !== undefined){
let data3 = data.img_size;
const _errs12 = errors;
const _errs13 = errors;
let valid2 = false;
let passing0 = null;
const _errs14 = errors;
if(!((typeof data3 == "number") && (isFinite(data3)))){
const err1 = {instancePath:instancePath+"/img_size",schemaPath:"#/then/properties/img_size/oneOf/0/type",keyword:"type",params:{type: "number"},message:"must be number"};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
var _valid1 = _errs14 === errors;
if(_valid1){
valid2 = true;
passing0 = 0;
}
const _errs16 = errors;
if(errors === _errs16){
if(Array.isArray(data3)){
if(data3.length < 1){
const err2 = {instancePath:instancePath+"/img_size",schemaPath:"#/then/properties/img_size/oneOf/1/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items"};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
else {
var valid3 = true;
const len0 = data3.length;
for(let i0=0; i0<len0; i0++){
let data4 = data3[i0];
const _errs18 = errors;
if(!((typeof data4 == "number") && (isFinite(data4)))){
const err3 = {instancePath:instancePath+"/img_size/" + i0,schemaPath:"#/then/properties/img_size/oneOf/1/items/type",keyword:"type",params:{type: "number"},message:"must be number"};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
var valid3 = _errs18 === errors;
if(!valid3){
break;
}
}
}
}
else {
const err4 = {instancePath:instancePath+"/img_size",schemaPath:"#/then/properties/img_size/oneOf/1/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
}
var _valid1 = _errs16 === errors;
if(_valid1 && valid2){
valid2 = false;
passing0 = [passing0, 1];
}
else {
if(_valid1){
valid2 = true;
passing0 = 1;
}
}
if(!valid2){
const err5 = {instancePath:instancePath+"/img_size",schemaPath:"#/then/properties/img_size/oneOf",keyword:"oneOf",params:{passingSchemas: passing0},message:"must match exactly one schema in oneOf"};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
validate11.errors = vErrors;
return false;
}
else {
errors = _errs13;
if(vErrors !== null){
if(_errs13){
vErrors.length = _errs13;
}
else {
vErrors = null;
}
}
}
var valid1 = _errs12 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.patch_size !== undefined){
let data5 = data.patch_size;
const _errs20 = errors;
const _errs21 = errors;
let valid4 = false;
let passing1 = null;
const _errs22 = errors;
if(!((typeof data5 == "number") && (isFinite(data5)))){
const err6 = {instancePath:instancePath+"/patch_size",schemaPath:"#/then/properties/patch_size/oneOf/0/type",keyword:"type",params:{type: "number"},message:"must be number"};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
var _valid2 = _errs22 === errors;
if(_valid2){
valid4 = true;
passing1 = 0;
}
const _errs24 = errors;
if(errors === _errs24){
if(Array.isArray(data5)){
if(data5.length < 1){
const err7 = {instancePath:instancePath+"/patch_size",schemaPath:"#/then/properties/patch_size/oneOf/1/minItems",keyword:"minItems",params:{limit: 1},message:"must NOT have fewer than 1 items"};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
else {
var valid5 = true;
const len1 = data5.length;
for(let i1=0; i1<len1; i1++){
let data6 = data5[i1];
const _errs26 = errors;
if(!((typeof data6 == "number") && (isFinite(data6)))){
const err8 = {instancePath:instancePath+"/patch_size/" + i1,schemaPath:"#/then/properties/patch_size/oneOf/1/items/type",keyword:"type",params:{type: "number"},message:"must be number"};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
var valid5 = _errs26 === errors;
if(!valid5){
break;
}
}
}
}
else {
const err9 = {instancePath:instancePath+"/patch_size",schemaPath:"#/then/properties/patch_size/oneOf/1/type",keyword:"type",params:{type: "array"},message:"must be array"};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
var _valid2 = _errs24 === errors;
if(_valid2 && valid4){
valid4 = false;
passing1 = [passing1, 1];
}
else {
if(_valid2){
valid4 = true;
passing1 = 1;
}
}
if(!valid4){
const err10 = {instancePath:instancePath+"/patch_size",schemaPath:"#/then/properties/patch_size/oneOf",keyword:"oneOf",params:{passingSchemas: passing1},message:"must match exactly one schema in oneOf"};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
validate11.errors = vErrors;
return false;
}
else {
errors = _errs21;
if(vErrors !== null){
if(_errs21){
vErrors.length = _errs21;
}
else {
vErrors = null;
}
}
}
var valid1 = _errs20 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.in_chans !== undefined){
let data7 = data.in_chans;
const _errs28 = errors;
if(!((typeof data7 == "number") && (isFinite(data7)))){
validate11.errors = [{instancePath:instancePath+"/in_chans",schemaPath:"#/then/properties/in_chans/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs28 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.mlp_dim !== undefined){
let data8 = data.mlp_dim;
const _errs30 = errors;
if(!((typeof data8 == "number") && (isFinite(data8)))){
validate11.errors = [{instancePath:instancePath+"/mlp_dim",schemaPath:"#/then/properties/mlp_dim/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs30 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.mlp_ratio !== undefined){
let data9 = data.mlp_ratio;
const _errs32 = errors;
if(!((typeof data9 == "number") && (isFinite(data9)))){
validate11.errors = [{instancePath:instancePath+"/mlp_ratio",schemaPath:"#/then/properties/mlp_ratio/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs32 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.num_classes !== undefined){
let data10 = data.num_classes;
const _errs34 = errors;
if(!((typeof data10 == "number") && (isFinite(data10)))){
validate11.errors = [{instancePath:instancePath+"/num_classes",schemaPath:"#/then/properties/num_classes/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs34 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.eps !== undefined){
let data11 = data.eps;
const _errs36 = errors;
if(!((typeof data11 == "number") && (isFinite(data11)))){
validate11.errors = [{instancePath:instancePath+"/eps",schemaPath:"#/then/properties/eps/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid1 = _errs36 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.mean !== undefined){
let data12 = data.mean;
const _errs38 = errors;
if(errors === _errs38){
if(Array.isArray(data12)){
if(data12.length > 3){
validate11.errors = [{instancePath:instancePath+"/mean",schemaPath:"#/then/properties/mean/maxItems",keyword:"maxItems",params:{limit: 3},message:"must NOT have more than 3 items"}];
return false;
}
else {
if(data12.length < 3){
validate11.errors = [{instancePath:instancePath+"/mean",schemaPath:"#/then/properties/mean/minItems",keyword:"minItems",params:{limit: 3},message:"must NOT have fewer than 3 items"}];
return false;
}
else {
var valid6 = true;
const len2 = data12.length;
for(let i2=0; i2<len2; i2++){
let data13 = data12[i2];
const _errs40 = errors;
if(!((typeof data13 == "number") && (isFinite(data13)))){
validate11.errors = [{instancePath:instancePath+"/mean/" + i2,schemaPath:"#/then/properties/mean/items/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid6 = _errs40 === errors;
if(!valid6){
break;
}
}
}
}
}
else {
validate11.errors = [{instancePath:instancePath+"/mean",schemaPath:"#/then/properties/mean/type",keyword:"type",params:{type: "array"},message:"must be array"}];
return false;
}
}
var valid1 = _errs38 === errors;
}
else {
var valid1 = true;
}
if(valid1){
if(data.std !== undefined){
let data14 = data.std;
const _errs42 = errors;
if(errors === _errs42){
if(Array.isArray(data14)){
if(data14.length > 3){
validate11.errors = [{instancePath:instancePath+"/std",schemaPath:"#/then/properties/std/maxItems",keyword:"maxItems",params:{limit: 3},message:"must NOT have more than 3 items"}];
return false;
}
else {
if(data14.length < 3){
validate11.errors = [{instancePath:instancePath+"/std",schemaPath:"#/then/properties/std/minItems",keyword:"minItems",params:{limit: 3},message:"must NOT have fewer than 3 items"}];
return false;
}
else {
var valid7 = true;
const len3 = data14.length;
for(let i3=0; i3<len3; i3++){
let data15 = data14[i3];
const _errs44 = errors;
if(!((typeof data15 == "number") && (isFinite(data15)))){
validate11.errors = [{instancePath:instancePath+"/std/" + i3,schemaPath:"#/then/properties/std/items/type",keyword:"type",params:{type: "number"},message:"must be number"}];
return false;
}
var valid7 = _errs44 === errors;
if(!valid7){
break;
}
}
}
}
}
else {
validate11.errors = [{instancePath:instancePath+"/std",schemaPath:"#/then/properties/std/type",keyword:"type",params:{type: "array"},message:"must be array"}];
return false;
}
}
var valid1 = _errs42 === errors;
}
else {
var valid1 = true;
}
}
}
}
}
}
}
}
}
}
}
}
}
}
else {
validate11.errors = [{instancePath,schemaPath:"#/then/type",keyword:"type",params:{type: "object"},message:"must be object"}];
return false;
}
}
var _valid0 = _errs4 === errors;
valid0 = _valid0;
}
if(!valid0){
const err11 = {instancePath,schemaPath:"#/if",keyword:"if",params:{failingKeyword: "then"},message:"must match \"then\" schema"};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
validate11.errors = vErrors;
return false;
}
validate11.errors = vErrors;
return errors === 0;
}
