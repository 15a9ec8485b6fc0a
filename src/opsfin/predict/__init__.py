"""Predict (docs/predict.md): machine failure risk priced in money, quality-defect drivers, models fitted
on a user's own labelled file, and the staffing roster. Pure: tables and config in, frames out."""
